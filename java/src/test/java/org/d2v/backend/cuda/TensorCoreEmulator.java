package org.d2v.backend.cuda;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs the CUDA-only kernels (kernels/*.cu) on the CPU through the host emulator of
 * src/test/cpp (each CUDA thread a fiber; ldmatrix, mma.sync and cp.async emulated from the PTX
 * ISA's definitions; see d2v_emulator.h), so their logic is tested without a GPU. The emulator is
 * compiled once per JVM with g++ into target/tc-emulator/, named by a hash of its sources.
 *
 * <p>Launch arguments map to kernel parameters as in {@link org.d2v.backend.kernel.KernelRuntime}:
 * a {@link Buf} is a pointer followed by an int element offset (0, or the one given by
 * {@link Buf#at}), {@code null} a null pointer and offset 0, Integer an int, Long an I64, Float a
 * float. The emulator checks them against the kernel's parameter list.
 */
final class TensorCoreEmulator {
    static final Path KERNELS = Path.of("..", "kernels").toAbsolutePath().normalize();
    static final Path SOURCES = Path.of("src", "test", "cpp").toAbsolutePath().normalize();
    private static final Pattern KERNEL = Pattern.compile("KERNEL\\s+void\\s+(\\w+)\\s*\\(");
    private static final java.util.Map<org.d2v.backend.kernel.Flavour, Path> BINARIES = new java.util.EnumMap<>(org.d2v.backend.kernel.Flavour.class);
    private static String unavailable;

    private TensorCoreEmulator() {}

    /** The compiled emulator, or null when there is no g++ (the reason is {@link #unavailable()}). */
    static synchronized Path binary() { return binary(org.d2v.backend.kernel.Flavour.F32); }

    /**
     * The emulator of one storage flavour: f32 holds every program (the CUDA-only ones, which name
     * their bf16 pointers explicitly, and the portable ones in f32); bf16 and bf16-f32 hold the
     * portable programs compiled with that flavour's definitions, as kernels/build.sh compiles their
     * fatbins (EmulatedGpu runs the bf16 twins there).
     */
    static synchronized Path binary(org.d2v.backend.kernel.Flavour flavour) {
        Path binary = BINARIES.get(flavour);
        if (binary != null || unavailable != null) return binary;
        boolean f32 = flavour == org.d2v.backend.kernel.Flavour.F32;
        try {
            String gxx = onPath("g++");
            if (gxx == null) {
                unavailable = "no g++ on PATH: the tensor-core kernels cannot be emulated";
                return null;
            }
            StringBuilder tu = new StringBuilder("#include \"d2v_emulator.h\"\n#include \"d2v.h\"\n");
            StringBuilder table = new StringBuilder();
            List<Path> headers = list(KERNELS, ".cuh"), programs = new ArrayList<>(f32 ? list(KERNELS, ".cu") : List.of());
            // the portable programs too (nvcc compiles them as CUDA, and so does the emulator), so that
            // EmulatedGpu can run a whole op set: the fast variants beside their portable twins
            programs.addAll(list(KERNELS, ".cl"));
            for (Path h : headers) tu.append("#include \"").append(h.getFileName()).append("\"\n");
            java.util.Set<String> names = new java.util.HashSet<>();
            for (Path p : programs) {
                String program = p.getFileName().toString().replaceAll("\\.(cu|cl)$", "");
                tu.append("namespace k_").append(program).append(" {\n#include \"").append(p.getFileName()).append("\"\n}\n");
                Matcher m = KERNEL.matcher(org.d2v.backend.kernel.KernelSignatures.stripComments(Files.readString(p)));
                while (m.find()) {
                    // the protocol names a kernel without its program: names must be unique across kernels/
                    if (!names.add(m.group(1))) throw new AssertionError("kernel " + m.group(1) + " is declared twice in kernels/");
                    table.append("    {\"").append(m.group(1)).append("\", [](d2v_emu::ArgReader &r) { return d2v_emu::bind(&k_")
                            .append(program).append("::").append(m.group(1)).append(", r); }},\n");
                }
            }
            tu.append("#include \"d2v_emulator_main.h\"\nconst d2v_emu::KernelEntry d2v_emu_table[] = {\n").append(table)
                    .append("};\nconst int d2v_emu_table_size = sizeof(d2v_emu_table) / sizeof(d2v_emu_table[0]);\n");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(tu.toString().getBytes(StandardCharsets.UTF_8));
            sha.update(flavour.defines().getBytes(StandardCharsets.UTF_8));
            List<Path> inputs = new ArrayList<>(headers);
            inputs.addAll(programs);
            inputs.add(KERNELS.resolve("d2v.h"));
            inputs.addAll(list(SOURCES, ".h"));
            for (Path p : inputs) sha.update(Files.readAllBytes(p));
            Path dir = Path.of("target", "tc-emulator").toAbsolutePath();
            Files.createDirectories(dir);
            Path exe = dir.resolve("emulator-" + (f32 ? "" : flavour.id() + "-") + HexFormat.of().formatHex(sha.digest(), 0, 8));
            if (!Files.isExecutable(exe)) {
                Path src = dir.resolve("emulator-" + flavour.id() + ".cpp");
                Files.writeString(src, tu);
                Path tmp = dir.resolve(exe.getFileName() + ".tmp");
                List<String> cmd = new ArrayList<>(List.of(gxx, "-O1", "-std=c++17"));
                for (String def : flavour.defines().split(" ")) if (!def.isEmpty()) cmd.add(def);
                cmd.addAll(List.of("-x", "c++", "-I", SOURCES.toString(), "-I", KERNELS.toString(), src.toString(), "-o", tmp.toString()));
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new AssertionError("g++ could not build the emulator of kernels/*.cu:\n" + out);
                }
                Files.move(tmp, exe, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            BINARIES.put(flavour, exe);
            return exe;
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new AssertionError("building the emulator: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static synchronized String unavailable() { return unavailable; }

    static String onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    private static List<Path> list(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    // ---- bf16 (the rule of kernels/bf16.cuh) ---------------------------------------------------

    /** float32 → bf16 bits, round to nearest even; NaN stays a quiet NaN. */
    static short bf16(double v) {
        int u = Float.floatToRawIntBits((float) v);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x40);
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }

    static double fromBf16(short h) { return Float.intBitsToFloat((h & 0xffff) << 16); }

    /** The values rounded to bf16 (what a bf16 tensor holding them stores). */
    static double[] roundBf16(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = fromBf16(bf16(v[i]));
        return r;
    }

    // ---- jobs ------------------------------------------------------------------------------------

    /** A device buffer of the emulator: its contents as bytes, and a typed reading of them. */
    static final class Buf {
        final int index;
        final int offset;
        final Job job;

        private Buf(Job job, int index, int offset) { this.job = job; this.index = index; this.offset = offset; }

        /** The same buffer seen from element offset {@code elements}. */
        Buf at(int elements) { return new Buf(job, index, elements); }

        ByteBuffer bytes() { return ByteBuffer.wrap(job.result.get(index)).order(ByteOrder.LITTLE_ENDIAN); }

        double[] floats() {
            ByteBuffer b = bytes();
            double[] v = new double[b.remaining() / 4];
            for (int i = 0; i < v.length; i++) v[i] = b.getFloat();
            return v;
        }

        double[] bf16s() {
            ByteBuffer b = bytes();
            double[] v = new double[b.remaining() / 2];
            for (int i = 0; i < v.length; i++) v[i] = fromBf16(b.getShort());
            return v;
        }
    }

    /** Buffers and a sequence of launches on them, run in one emulator process. */
    static final class Job {
        /** Which emulator runs the job's launches (all of one flavour). */
        private final org.d2v.backend.kernel.Flavour flavour;
        private final List<byte[]> buffers = new ArrayList<>();
        private final ByteArrayOutputStream launches = new ByteArrayOutputStream();
        private int launchCount;
        private List<byte[]> result;

        Job() { this(org.d2v.backend.kernel.Flavour.F32); }

        Job(org.d2v.backend.kernel.Flavour flavour) { this.flavour = flavour; }

        private Buf add(ByteBuffer b) {
            buffers.add(b.array());
            return new Buf(this, buffers.size() - 1, 0);
        }

        private static ByteBuffer alloc(int bytes) { return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN); }

        Buf f32(double[] v) {
            ByteBuffer b = alloc(4 * v.length);
            for (double x : v) b.putFloat((float) x);
            return add(b);
        }

        /** v rounded to bf16. */
        Buf bf16(double[] v) {
            ByteBuffer b = alloc(2 * v.length);
            for (double x : v) b.putShort(TensorCoreEmulator.bf16(x));
            return add(b);
        }

        /** A buffer holding these bytes (EmulatedGpu's memory, copied in). */
        Buf raw(byte[] bytes) { return add(ByteBuffer.wrap(bytes.clone()).order(ByteOrder.LITTLE_ENDIAN)); }

        Buf i32(int[] v) {
            ByteBuffer b = alloc(4 * v.length);
            for (int x : v) b.putInt(x);
            return add(b);
        }

        /** n floats of NaN: elements a kernel fails to write show. */
        Buf f32NaN(int n) {
            double[] v = new double[n];
            java.util.Arrays.fill(v, Double.NaN);
            return f32(v);
        }

        Buf bf16NaN(int n) {
            double[] v = new double[n];
            java.util.Arrays.fill(v, Double.NaN);
            return bf16(v);
        }

        /** A launch as the Java side builds it (TensorCoreLaunches), with these buffers as its operands. */
        void launch(org.d2v.backend.kernel.TensorCoreLaunches.Launch l) { launch(l.kernel(), l.grid(), l.block(), l.args()); }

        void launch(String kernel, int[] grid, int[] block, Object... args) {
            org.d2v.backend.kernel.LaunchChecks.recordEmulated(programOf(kernel),
                    flavour == org.d2v.backend.kernel.Flavour.F32 ? kernel : kernel + "@" + flavour.id());
            ByteBuffer b = alloc(4096);
            byte[] name = kernel.getBytes(StandardCharsets.US_ASCII);
            b.putInt(name.length).put(name);
            for (int d = 0; d < 3; d++) b.putInt(d < grid.length ? grid[d] : 1);
            for (int d = 0; d < 3; d++) b.putInt(d < block.length ? block[d] : 1);
            List<Object> flat = new ArrayList<>();
            for (Object a : args) {
                if (a == null) { flat.add(new Ptr(-1)); flat.add(0); }
                else if (a instanceof Buf buf) {
                    if (buf.job != this) throw new IllegalArgumentException("a buffer of another job");
                    flat.add(new Ptr(buf.index));
                    flat.add(buf.offset);
                } else if (a instanceof Integer || a instanceof Long || a instanceof Float) flat.add(a);
                else throw new IllegalArgumentException("launch argument " + a + " (" + a.getClass().getSimpleName()
                        + "): pass Buf, null, Integer, Long or Float");
            }
            b.putInt(flat.size());
            for (Object a : flat) {
                if (a instanceof Ptr p) b.put((byte) 'p').putInt(p.index);
                else if (a instanceof Integer i) b.put((byte) 'i').putInt(i);
                else if (a instanceof Long l) b.put((byte) 'l').putLong(l);
                else b.put((byte) 'f').putFloat((Float) a);
            }
            launches.write(b.array(), 0, b.position());
            launchCount++;
        }

        private record Ptr(int index) {}

        /** The .cu program declaring {@code kernel} (kernel names are unique across kernels/). */
        private static String programOf(String kernel) {
            for (String program : org.d2v.backend.kernel.DeclaredKernels.programs()) {
                if (org.d2v.backend.kernel.KernelSignatures.program(program).containsKey(kernel)) return program;
            }
            throw new IllegalArgumentException("no program in kernels/ declares " + kernel);
        }

        /** Runs every launch in order; afterwards each Buf reads its final contents. */
        void run() {
            Path exe = binary(flavour);
            if (exe == null) throw new IllegalStateException(unavailable());
            try {
                Path dir = Files.createTempDirectory("tc-emu");
                Path in = dir.resolve("in"), out = dir.resolve("out"), err = dir.resolve("err");
                ByteArrayOutputStream s = new ByteArrayOutputStream();
                ByteBuffer head = alloc(8);
                head.put("D2VE".getBytes(StandardCharsets.US_ASCII)).putInt(buffers.size());
                s.write(head.array());
                for (byte[] buf : buffers) {
                    s.write(alloc(8).putLong(buf.length).array());
                    s.write(buf);
                }
                s.write(alloc(4).putInt(launchCount).array());
                launches.writeTo(s);
                Files.write(in, s.toByteArray());
                Process p = new ProcessBuilder(exe.toString()).redirectInput(in.toFile()).redirectOutput(out.toFile())
                        .redirectError(err.toFile()).start();
                if (!p.waitFor(300, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("the emulator did not finish in 300 s");
                }
                String error = Files.readString(err);
                if (p.exitValue() != 0) throw new AssertionError("emulator (exit " + p.exitValue() + "): " + error.strip());
                byte[] all = Files.readAllBytes(out);
                result = new ArrayList<>();
                int at = 0;
                for (byte[] buf : buffers) {
                    result.add(java.util.Arrays.copyOfRange(all, at, at + buf.length));
                    at += buf.length;
                }
                if (at != all.length) throw new AssertionError("emulator reply has " + all.length + " bytes, expected " + at);
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) Files.delete(f);
                }
                Files.delete(dir);
            } catch (IOException e) {
                throw new AssertionError("running the emulator: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
