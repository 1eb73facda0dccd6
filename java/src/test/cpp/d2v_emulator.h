/*
 * A host emulator for the CUDA-only kernels (kernels/*.cu), so that tests without a GPU can run
 * their logic: indexing, masking, pipelines, fragment layouts. Each CUDA thread is a fiber
 * (ucontext) on one OS thread; blocks run one after another; the scheduler switches fibers only
 * at synchronisation points, so runs are deterministic.
 *
 * What it emulates, from the PTX ISA's definitions (tc.cuh lists the layouts):
 *  - __syncthreads (threads that exited count as arrived, as on sm_70+);
 *  - warp collectives (__shfl_xor_sync, ldmatrix.x4 [.trans], mma.sync.m16n8k16 bf16): every lane
 *    of the warp must arrive at the same collective, or the run stops with an error (divergence);
 *  - cp.async: the source is read at issue, the shared-memory write lands only at the
 *    cp.async.wait_group that retires its group (D2V_EMU_CP_ASYNC=early writes at issue instead),
 *    so a tile read before its wait sees stale data and the result is wrong;
 *  - a deadlock (no fiber can move) stops the run with the kernel's name.
 * What it cannot show: timing, bank conflicts, register pressure, races between threads that the
 * round-robin order happens to serialise, and the hardware's exact mma rounding (it sums the
 * products in double and rounds once, within fp32's accuracy of the hardware's result).
 *
 * Include it first (g++ -include d2v_emulator.h), then d2v.h and the kernels.
 */
#ifndef D2V_EMULATOR_H
#define D2V_EMULATOR_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <ucontext.h>
#include <vector>

struct uint3 { unsigned int x, y, z; };
struct dim3 { unsigned int x, y, z; };
struct alignas(16) uint4 { unsigned int x, y, z, w; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(8) uint2 { unsigned int x, y; };
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

namespace d2v_emu {

[[noreturn]] void fail(const std::string &why);

struct Fiber {
    ucontext_t ctx;
    uint3 tid;
    int linear = 0;
    bool done = false;
    std::vector<char> stack;
    /* cp.async: committed groups (oldest first) and the open one; each entry is a 16-byte write */
    struct Copy { unsigned char *dst; unsigned char data[16]; };
    std::vector<std::vector<Copy>> groups;
    std::vector<Copy> open;
};

struct Warp {
    int op = -1;        /* the collective the lanes arrived at */
    int arrived = 0;
    unsigned gen = 0;
    int alive = 32;
    uint64_t in[32][12];
    uint64_t out[32][4];
};

struct Block {
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    int alive = 0, arrived = 0;
    unsigned gen = 0;
};

extern Fiber *current;
extern Block *block;
extern ucontext_t scheduler;
extern bool progress;
extern uint3 g_blockIdx;
extern dim3 g_blockDim, g_gridDim;
extern const char *kernel_name;
extern bool cp_async_early;

/* Back to the scheduler until resumed; the caller re-checks its condition. */
inline void yield() { swapcontext(&current->ctx, &scheduler); }

inline void syncthreads() {
    Block &b = *block;
    progress = true;
    if (++b.arrived == b.alive) { b.arrived = 0; b.gen++; return; }
    const unsigned g = b.gen;
    while (b.gen == g) yield();
}

/* A warp collective: each lane deposits `words` 64-bit values, the last one to arrive runs
   compute(warp) for all lanes, then every lane reads its results. */
template <class F>
inline const uint64_t *collective(int op, const uint64_t *in, int words, F compute) {
    Warp &w = block->warps[current->linear / 32];
    const int lane = current->linear % 32;
    progress = true;
    if (w.arrived == 0) w.op = op;
    else if (w.op != op) fail(std::string("warp divergence: lanes of one warp reached different collectives in ") + kernel_name);
    std::memcpy(w.in[lane], in, sizeof(uint64_t) * words);
    if (++w.arrived == w.alive) {
        if (w.alive != 32) fail(std::string("a warp collective with exited lanes in ") + kernel_name);
        compute(w);
        w.arrived = 0;
        w.gen++;
    } else {
        const unsigned g = w.gen;
        while (w.gen == g) yield();
    }
    return w.out[lane];
}

inline float bf(uint32_t bits16) { uint32_t u = bits16 << 16; float f; std::memcpy(&f, &u, 4); return f; }

} // namespace d2v_emu

/* ---------------------------------------------------------------- CUDA surface */
#define __CUDACC__ 1
#define D2V_EMULATION 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define threadIdx (d2v_emu::current->tid)
#define blockIdx (d2v_emu::g_blockIdx)
#define blockDim (d2v_emu::g_blockDim)
#define gridDim (d2v_emu::g_gridDim)

using std::max;
using std::min;

static inline void __syncthreads() { d2v_emu::syncthreads(); }
static inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned int u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline int __float_as_int(float f) { int u; std::memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline unsigned int __umulhi(unsigned int a, unsigned int b) { return (unsigned int) (((uint64_t) a * b) >> 32); }
static inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
static inline float cospif(float x) { return (float) std::cos(M_PI * (double) x); }
static inline float __fdividef(float a, float b) { return a / b; }

template <class T>
static inline T __shfl_xor_sync(unsigned, T v, int laneMask) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 64 bits");
    uint64_t in = 0;
    std::memcpy(&in, &v, sizeof(T));
    const uint64_t *r = d2v_emu::collective(1000 + laneMask, &in, 1, [&](d2v_emu::Warp &w) {
        for (int l = 0; l < 32; l++) w.out[l][0] = w.in[(l ^ laneMask) & 31][0];
    });
    T out;
    std::memcpy(&out, r, sizeof(T));
    return out;
}

/* ---------------------------------------------------------------- tc.cuh primitives */

static inline void cp_async16(void *smem, const void *gmem, bool valid) {
    d2v_emu::Fiber::Copy c;
    c.dst = (unsigned char *) smem;
    if (((uintptr_t) smem | (valid ? (uintptr_t) gmem : 0)) & 15) d2v_emu::fail(std::string("cp.async of a misaligned 16-byte chunk in ") + d2v_emu::kernel_name);
    if (valid) std::memcpy(c.data, gmem, 16); else std::memset(c.data, 0, 16);
    if (d2v_emu::cp_async_early) std::memcpy(c.dst, c.data, 16);
    else d2v_emu::current->open.push_back(c);
}

static inline void cp_async_commit() {
    d2v_emu::Fiber &f = *d2v_emu::current;
    f.groups.push_back(f.open);
    f.open.clear();
}

template <int N>
static inline void cp_async_wait() {
    d2v_emu::Fiber &f = *d2v_emu::current;
    while ((int) f.groups.size() > N) {
        for (auto &c : f.groups.front()) std::memcpy(c.dst, c.data, 16);
        f.groups.erase(f.groups.begin());
    }
}

/* ldmatrix .x4: lanes 8j..8j+7 address the rows of matrix j. */
static inline void d2v_emu_ldmatrix(unsigned int (&r)[4], const void *smem, bool trans) {
    uint64_t in = (uint64_t) (uintptr_t) smem;
    if (in & 15) d2v_emu::fail(std::string("ldmatrix row address not 16-byte aligned in ") + d2v_emu::kernel_name);
    const uint64_t *o = d2v_emu::collective(trans ? 2 : 1, &in, 1, [&](d2v_emu::Warp &w) {
        for (int l = 0; l < 32; l++) {
            for (int j = 0; j < 4; j++) {
                unsigned short e[2];
                for (int h = 0; h < 2; h++) {
                    const int row = trans ? 2 * (l % 4) + h : l / 4, col = trans ? l / 4 : 2 * (l % 4) + h;
                    const unsigned short *rowp = (const unsigned short *) (uintptr_t) w.in[8 * j + row][0];
                    e[h] = rowp[col];
                }
                const uint32_t word = (uint32_t) e[0] | ((uint32_t) e[1] << 16);
                if (j % 2 == 0) w.out[l][j / 2] = word; else w.out[l][j / 2] |= (uint64_t) word << 32;
            }
        }
    });
    for (int j = 0; j < 4; j++) r[j] = (unsigned int) (o[j / 2] >> (32 * (j % 2)));
}

static inline void ldmatrix_x4(unsigned int (&r)[4], const void *smem) { d2v_emu_ldmatrix(r, smem, false); }
static inline void ldmatrix_x4_trans(unsigned int (&r)[4], const void *smem) { d2v_emu_ldmatrix(r, smem, true); }

/* mma.sync.m16n8k16.row.col.f32.bf16.bf16.f32: d = a·b + d from the documented fragments. */
static inline void mma_bf16(float (&d)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1) {
    uint64_t in[10];
    for (int i = 0; i < 4; i++) in[i] = a[i];
    in[4] = b0;
    in[5] = b1;
    for (int i = 0; i < 4; i++) { uint32_t u; std::memcpy(&u, &d[i], 4); in[6 + i] = u; }
    const uint64_t *o = d2v_emu::collective(3, in, 10, [&](d2v_emu::Warp &w) {
        float A[16][16], B[16][8], C[16][8];
        for (int l = 0; l < 32; l++) {
            const int g = l / 4, t = l % 4;
            for (int i = 0; i < 4; i++) {
                const uint32_t word = (uint32_t) w.in[l][i];
                const int row = g + (i % 2) * 8, col = 2 * t + (i / 2) * 8;
                A[row][col] = d2v_emu::bf(word & 0xffff);
                A[row][col + 1] = d2v_emu::bf(word >> 16);
            }
            for (int i = 0; i < 2; i++) {
                const uint32_t word = (uint32_t) w.in[l][4 + i];
                B[2 * t + i * 8][g] = d2v_emu::bf(word & 0xffff);
                B[2 * t + i * 8 + 1][g] = d2v_emu::bf(word >> 16);
            }
            for (int i = 0; i < 4; i++) {
                uint32_t u = (uint32_t) w.in[l][6 + i];
                float f;
                std::memcpy(&f, &u, 4);
                C[g + (i / 2) * 8][2 * t + (i % 2)] = f;
            }
        }
        for (int l = 0; l < 32; l++) {
            const int g = l / 4, t = l % 4;
            for (int i = 0; i < 4; i++) {
                const int row = g + (i / 2) * 8, col = 2 * t + (i % 2);
                double s = C[row][col];
                for (int k = 0; k < 16; k++) s += (double) A[row][k] * B[k][col];
                float f = (float) s;
                uint32_t u;
                std::memcpy(&u, &f, 4);
                if (i % 2 == 0) w.out[l][i / 2] = u; else w.out[l][i / 2] |= (uint64_t) u << 32;
            }
        }
    });
    for (int i = 0; i < 4; i++) { uint32_t u = (uint32_t) (o[i / 2] >> (32 * (i % 2))); std::memcpy(&d[i], &u, 4); }
}

#endif
