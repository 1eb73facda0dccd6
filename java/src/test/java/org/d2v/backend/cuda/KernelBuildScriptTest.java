package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kernels/build.sh: a missing nvcc is never a failed build; a kernel nvcc rejects always is. */
class KernelBuildScriptTest {
    /** Maven runs tests in java/; the script lives in the repository's kernels/. */
    private static final Path KERNELS = Path.of("..", "kernels").toAbsolutePath().normalize();

    private record Result(int exit, String output) {}

    private static Result run(Map<String, String> env, Path out) throws IOException, InterruptedException {
        Path script = KERNELS.resolve("build.sh");
        assertTrue(Files.isRegularFile(script), "no " + script);
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("OUT", out.toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "build.sh did not finish");
        return new Result(p.exitValue(), output);
    }

    @Test
    void withoutNvccTheBuildSucceedsAndSaysSo(@TempDir Path out) throws Exception {
        Result r = run(Map.of("NVCC", ""), out);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("nvcc not found: no CUDA kernels (the CUDA backend will be unavailable)"), r.output());
        try (var files = Files.list(out)) {
            assertFalse(files.anyMatch(f -> f.toString().endsWith(".fatbin")), "no fatbin without nvcc");
        }
    }

    private static String nvcc() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "nvcc");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    @Test
    void withNvccABrokenKernelFailsWithNvccsMessage(@TempDir Path src, @TempDir Path out) throws Exception {
        String nvcc = nvcc();
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on PATH");
        Files.copy(KERNELS.resolve("d2v.h"), src.resolve("d2v.h"));
        Files.writeString(src.resolve("good.cl"), "KERNEL void twice(int n, GLOBAL float *x, int xo) {\n"
                + "    int i = GID(0);\n    if (i < n) x[xo + i] *= 2.0f;\n}\n");
        // an ACT pointer: compiled a second time in the bf16 storage flavour
        Files.writeString(src.resolve("act.cl"), "KERNEL void half(int n, GLOBAL ACT *x, int xo) {\n"
                + "    int i = GID(0);\n    if (i < n) x[xo + i] = ACT_ST(0.5f * ACT_LD(x[xo + i]));\n}\n");
        Result ok = run(Map.of("NVCC", nvcc, "SRC", src.toString()), out);
        assertEquals(0, ok.exit(), ok.output());
        assertTrue(Files.size(out.resolve("good.fatbin")) > 0);
        assertTrue(Files.size(out.resolve("act.bf16.fatbin")) > 0, ok.output());
        assertFalse(Files.exists(out.resolve("good.bf16.fatbin")), "a program without ACT pointers has one flavour");
        assertEquals(List.of("act", "act.bf16", "good"), Files.readAllLines(out.resolve("cuda-kernels.txt")).stream()
                .filter(l -> !l.startsWith("#")).sorted().toList());
        String report = Files.readString(out.resolve("ptxas-report.txt"));
        assertTrue(report.contains("good/twice") && report.contains("act.bf16/half") && report.contains("sm_80:") && report.contains("sm_90:"), report);

        Files.writeString(src.resolve("bad.cl"), "KERNEL void broken(GLOBAL float *x, int xo) { x[xo] = no_such_name; }\n");
        Result bad = run(Map.of("NVCC", nvcc, "SRC", src.toString()), out);
        assertNotEquals(0, bad.exit(), bad.output());
        assertTrue(bad.output().contains("no_such_name") && bad.output().contains("bad.cl"), bad.output());
        assertFalse(Files.exists(out.resolve("bad.fatbin")), "a failed compile leaves no fatbin");
    }
}
