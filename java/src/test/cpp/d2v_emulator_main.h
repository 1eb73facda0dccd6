/*
 * The emulator's runtime and its protocol with the Java tests (TensorCoreEmulation): the fiber
 * scheduler, the launch of a kernel by name with arguments checked against its parameter list,
 * and main(). Included at the end of the generated translation unit, after the kernels and a
 * table of them (D2V_EMU_TABLE).
 *
 * Protocol, little-endian, stdin -> stdout:
 *   "D2VE", u32 buffers, per buffer: u64 bytes + the bytes;
 *   u32 launches, per launch: u32 name length + name, u32 grid[3], u32 block[3], u32 args,
 *     per argument: u8 kind + value: 'p' u32 buffer index (0xffffffff: null), 'i' i32, 'l' i64, 'f' f32;
 *   reply: every buffer's bytes after the last launch. Errors: a message on stderr, exit 2.
 */
#include <functional>
#include <iostream>
#include <tuple>
#include <type_traits>
#include <unistd.h>

namespace d2v_emu {

Fiber *current;
Block *block;
ucontext_t scheduler;
bool progress;
uint3 g_blockIdx;
dim3 g_blockDim, g_gridDim;
const char *kernel_name = "?";
bool cp_async_early = false;

[[noreturn]] void fail(const std::string &why) {
    std::fprintf(stderr, "emulator: %s\n", why.c_str());
    std::fflush(stderr);
    std::_Exit(2);
}

struct Arg { char kind; uint64_t value; };

struct ArgReader {
    const std::vector<Arg> &args;
    const std::vector<unsigned char *> &buffers;
    size_t at = 0;

    const Arg &next(char kind, const char *what) {
        if (at >= args.size()) fail(std::string(kernel_name) + ": the launch passes " + std::to_string(args.size()) + " arguments, the kernel takes more");
        const Arg &a = args[at++];
        if (a.kind != kind) {
            fail(std::string(kernel_name) + ": parameter " + std::to_string(at - 1) + " is " + what + ", the launch passes '" + a.kind + "'");
        }
        return a;
    }

    template <class T>
    T get() {
        if constexpr (std::is_pointer_v<T>) {
            const Arg &a = next('p', "a pointer");
            if (a.value == 0xffffffffull) return nullptr;
            if (a.value >= buffers.size()) fail(std::string(kernel_name) + ": no buffer " + std::to_string(a.value));
            return (T) buffers[a.value];
        } else if constexpr (std::is_same_v<T, int>) {
            return (int) (int32_t) next('i', "an int").value;
        } else if constexpr (std::is_same_v<T, long long>) {
            return (long long) next('l', "a 64-bit int").value;
        } else {
            static_assert(std::is_same_v<T, float>, "kernel parameters are pointers, int, I64 or float");
            uint32_t bits = (uint32_t) next('f', "a float").value;
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
    }
};

template <class... P>
std::function<void()> bind(void (*f)(P...), ArgReader &r) {
    std::tuple<P...> values{r.get<P>()...}; /* braced initialisation: read in parameter order */
    if (r.at != r.args.size()) {
        fail(std::string(kernel_name) + ": the kernel takes " + std::to_string(r.at) + " parameters, the launch passes " + std::to_string(r.args.size()));
    }
    return [f, values]() { std::apply(f, values); };
}

struct KernelEntry { const char *name; std::function<std::function<void()>(ArgReader &)> binder; };

static std::function<void()> *body;
static const size_t STACK = 256 * 1024;

static void fiber_exit() {
    Block &b = *block;
    Fiber &f = *current;
    f.done = true;
    progress = true;
    b.alive--;
    Warp &w = b.warps[f.linear / 32];
    w.alive--;
    if (w.arrived > 0 && w.arrived == w.alive) fail(std::string("a warp collective with exited lanes in ") + kernel_name);
    if (b.arrived > 0 && b.arrived == b.alive) { b.arrived = 0; b.gen++; }
}

static void fiber_entry() {
    (*body)();
    fiber_exit();
    swapcontext(&current->ctx, &scheduler);
    fail("a finished fiber was resumed");
}

static void run(const KernelEntry &k, const unsigned grid[3], const unsigned blk[3], std::function<void()> fn) {
    kernel_name = k.name;
    body = &fn;
    const int threads = (int) (blk[0] * blk[1] * blk[2]);
    if (threads < 1 || threads > 1024) fail(std::string(k.name) + ": block of " + std::to_string(threads) + " threads");
    g_blockDim = dim3{blk[0], blk[1], blk[2]};
    g_gridDim = dim3{grid[0], grid[1], grid[2]};
    std::vector<std::vector<char>> stacks(threads, std::vector<char>(STACK));
    for (unsigned bz = 0; bz < grid[2]; bz++)
        for (unsigned by = 0; by < grid[1]; by++)
            for (unsigned bx = 0; bx < grid[0]; bx++) {
                g_blockIdx = uint3{bx, by, bz};
                Block b;
                b.fibers.resize(threads);
                b.warps.resize((threads + 31) / 32);
                for (int w = 0; w < (int) b.warps.size(); w++) b.warps[w].alive = std::min(32, threads - 32 * w);
                b.alive = threads;
                block = &b;
                for (int i = 0; i < threads; i++) {
                    Fiber &f = b.fibers[i];
                    f.linear = i;
                    f.tid = uint3{(unsigned) (i % blk[0]), (unsigned) (i / blk[0] % blk[1]), (unsigned) (i / (blk[0] * blk[1]))};
                    getcontext(&f.ctx);
                    f.ctx.uc_stack.ss_sp = stacks[i].data();
                    f.ctx.uc_stack.ss_size = STACK;
                    f.ctx.uc_link = nullptr;
                    makecontext(&f.ctx, fiber_entry, 0);
                }
                for (;;) {
                    bool any = false;
                    progress = false;
                    for (auto &f : b.fibers) {
                        if (f.done) continue;
                        any = true;
                        current = &f;
                        swapcontext(&scheduler, &f.ctx);
                    }
                    if (!any) break;
                    if (!progress) fail(std::string("deadlock in ") + k.name + ": every live thread waits at a barrier or collective the others never reach");
                }
            }
}

static void read_exact(void *p, size_t n) {
    unsigned char *c = (unsigned char *) p;
    while (n > 0) {
        ssize_t r = ::read(0, c, n);
        if (r <= 0) fail("truncated input");
        c += r;
        n -= (size_t) r;
    }
}

template <class T> static T read_val() { T v; read_exact(&v, sizeof v); return v; }

static void write_exact(const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *) p;
    while (n > 0) {
        ssize_t r = ::write(1, c, n);
        if (r <= 0) fail("cannot write the reply");
        c += r;
        n -= (size_t) r;
    }
}

} // namespace d2v_emu

extern const d2v_emu::KernelEntry d2v_emu_table[];
extern const int d2v_emu_table_size;

int main() {
    using namespace d2v_emu;
    const char *mode = std::getenv("D2V_EMU_CP_ASYNC");
    cp_async_early = mode != nullptr && std::string(mode) == "early";
    char magic[4];
    read_exact(magic, 4);
    if (std::memcmp(magic, "D2VE", 4) != 0) fail("bad magic");
    const uint32_t nbuf = read_val<uint32_t>();
    std::vector<unsigned char *> buffers(nbuf);
    std::vector<uint64_t> sizes(nbuf);
    for (uint32_t i = 0; i < nbuf; i++) {
        sizes[i] = read_val<uint64_t>();
        buffers[i] = (unsigned char *) std::aligned_alloc(256, (sizes[i] + 255) / 256 * 256 + 256);
        read_exact(buffers[i], sizes[i]);
    }
    const uint32_t launches = read_val<uint32_t>();
    for (uint32_t l = 0; l < launches; l++) {
        const uint32_t len = read_val<uint32_t>();
        std::string name(len, '\0');
        read_exact(name.data(), len);
        unsigned grid[3], blk[3];
        for (auto &g : grid) g = read_val<uint32_t>();
        for (auto &b : blk) b = read_val<uint32_t>();
        const uint32_t nargs = read_val<uint32_t>();
        std::vector<Arg> args(nargs);
        for (auto &a : args) {
            a.kind = read_val<char>();
            switch (a.kind) {
                case 'p': case 'i': case 'f': a.value = read_val<uint32_t>(); break;
                case 'l': a.value = read_val<uint64_t>(); break;
                default: fail(std::string("bad argument kind ") + a.kind);
            }
        }
        const KernelEntry *k = nullptr;
        for (int i = 0; i < d2v_emu_table_size; i++)
            if (name == d2v_emu_table[i].name) k = &d2v_emu_table[i];
        if (k == nullptr) fail("no kernel '" + name + "' in the emulator");
        kernel_name = k->name;
        ArgReader reader{args, buffers};
        std::function<void()> fn = k->binder(reader);
        run(*k, grid, blk, fn);
    }
    for (uint32_t i = 0; i < nbuf; i++) write_exact(buffers[i], sizes[i]);
    return 0;
}
