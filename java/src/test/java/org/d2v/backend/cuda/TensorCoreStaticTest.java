package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The static checks of the CUDA-only kernels (no GPU needed): the build's PTX of each fast kernel
 * holds the instructions it exists for (mma.sync, ldmatrix, cp.async; 16-byte global accesses for
 * the memory-bound ones), ptxas reports no spills and no stack frame, and registers and static
 * shared memory stay within kernels/budgets.txt. Runs wherever `make kernels` had nvcc (CI has);
 * skips only when this machine has no nvcc and no build.
 */
class TensorCoreStaticTest {
    private static final Path KERNELS = Path.of("..", "kernels").toAbsolutePath().normalize();
    private static final Path BUILD = Path.of("..", "build", "kernels").toAbsolutePath().normalize();
    private static final Pattern KERNEL = Pattern.compile("KERNEL\\s+void\\s+(\\w+)\\s*\\(");
    private static final List<String> VIRTUAL = List.of("compute_80", "compute_90");
    private static final List<String> SASS = List.of("sm_80", "sm_90");

    @Test
    void theBuildMeetsEveryBudget() throws IOException {
        List<Path> sources;
        try (Stream<Path> s = Files.list(KERNELS)) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        assertFalse(sources.isEmpty(), "no kernels/*.cu");
        boolean built = Files.isDirectory(BUILD.resolve("ptx"));
        if (!built) {
            if (TensorCoreEmulator.onPath("nvcc") != null || "true".equals(System.getenv("CI"))) {
                fail("no " + BUILD.resolve("ptx") + ": run `make kernels` (nvcc is here, so the static checks must run)");
            }
            Assumptions.abort("no nvcc and no CUDA build here: the static checks run where `make kernels` had nvcc");
        }
        Map<String, List<String>> declared = new LinkedHashMap<>();
        Map<String, Map<String, String>> ptx = new LinkedHashMap<>();
        Map<String, String> logs = new LinkedHashMap<>();
        List<String> stale = new ArrayList<>();
        for (Path src : sources) {
            String program = src.getFileName().toString().replace(".cu", "");
            List<String> names = new ArrayList<>();
            Matcher m = KERNEL.matcher(Files.readString(src));
            while (m.find()) names.add(m.group(1));
            declared.put(program, names);
            Map<String, String> files = new LinkedHashMap<>();
            for (String v : VIRTUAL) {
                Path p = BUILD.resolve("ptx").resolve(program + "." + v + ".ptx");
                if (!Files.isRegularFile(p)) { stale.add(p + " is missing"); continue; }
                if (Files.getLastModifiedTime(p).compareTo(Files.getLastModifiedTime(src)) < 0) stale.add(p + " is older than " + src);
                files.put(v, Files.readString(p));
            }
            ptx.put(program, files);
            Path log = BUILD.resolve("ptxas").resolve(program + ".log");
            if (Files.isRegularFile(log)) logs.put(program, Files.readString(log));
        }
        assertTrue(stale.isEmpty(), "run `make kernels`: " + stale);
        List<KernelBudgets.Budget> budgets = KernelBudgets.parse(Files.readAllLines(KERNELS.resolve("budgets.txt")), "kernels/budgets.txt");
        List<String> bad = KernelBudgets.check(budgets, declared, ptx, logs, SASS);
        assertTrue(bad.isEmpty(), "kernels/budgets.txt is not met:\n  " + String.join("\n  ", bad));
        int kernels = declared.values().stream().mapToInt(List::size).sum();
        assertEquals(kernels, budgets.size(), "one budget line per kernel");
        System.out.println("static checks: " + kernels + " CUDA-only kernels in " + sources.size() + " programs meet kernels/budgets.txt");
    }

    // ---- the checker itself, on a deliberately broken build ----------------------------------------

    private static final String GOOD_PTX = """
            .version 9.0
            .target sm_90
            .visible .entry fast_gemm(
            \t.param .u64 fast_gemm_param_0
            )
            {
            \tcp.async.cg.shared.global [%r1], [%rd2], 16, %r3;
            \tldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r4, %r5, %r6, %r7}, [%r8];
            \tmma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f1, %f2, %f3, %f4}, {%r4, %r5, %r6, %r7}, {%r9, %r10}, {%f1, %f2, %f3, %f4};
            \tret;
            }
            """;

    /** The same kernel after a change that lost its tensor-core path (an FFMA loop instead). */
    private static final String BROKEN_PTX = GOOD_PTX.replace(
            "\tmma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f1, %f2, %f3, %f4}, {%r4, %r5, %r6, %r7}, {%r9, %r10}, {%f1, %f2, %f3, %f4};",
            "\tfma.rn.f32 %f1, %f2, %f3, %f1;");

    private static String ptxas(int registers, int smem, int stack, int spill) {
        return "ptxas info    : Compiling entry function 'fast_gemm' for 'sm_90'\n"
                + "ptxas info    : Function properties for fast_gemm\n"
                + "    " + stack + " bytes stack frame, " + spill + " bytes spill stores, " + spill + " bytes spill loads\n"
                + "ptxas info    : Used " + registers + " registers, used 1 barriers, " + smem + " bytes smem, 400 bytes cmem[0]\n";
    }

    private static List<String> check(String ptx, String log, List<String> budgetLines, List<String> declared) {
        return KernelBudgets.check(KernelBudgets.parse(budgetLines, "budgets"), Map.of("fast", declared),
                Map.of("fast", Map.of("compute_90", ptx)), Map.of("fast", log), List.of("sm_90"));
    }

    private static final List<String> BUDGET = List.of("fast/fast_gemm  128  49152  mma,ldmatrix,cp.async");

    @Test
    void aHealthyKernelPasses() {
        assertEquals(List.of(), check(GOOD_PTX, ptxas(120, 49152, 0, 0), BUDGET, List.of("fast_gemm")));
    }

    @Test
    void aLostTensorCorePathSpillsAndBlownBudgetsAreReported() {
        List<String> bad = check(BROKEN_PTX, ptxas(168, 65536, 64, 32), BUDGET, List.of("fast_gemm"));
        String all = String.join("\n", bad);
        assertTrue(all.contains("fast/fast_gemm: the compute_90 PTX has no mma instruction"), all);
        assertTrue(all.contains("spills (32 B stores, 32 B loads)"), all);
        assertTrue(all.contains("a 64-byte stack frame"), all);
        assertTrue(all.contains("168 registers > budget 128"), all);
        assertTrue(all.contains("65536 B shared memory > budget 49152"), all);
        assertEquals(5, bad.size(), all);
    }

    @Test
    void aKernelWithoutABudgetOrABudgetWithoutAKernelIsReported() {
        List<String> bad = check(GOOD_PTX, ptxas(120, 0, 0, 0), BUDGET, List.of("fast_gemm", "new_kernel"));
        assertEquals(List.of("fast/new_kernel: declared in kernels/fast.cu but has no budget line"), bad);
        bad = check(GOOD_PTX, ptxas(120, 0, 0, 0), List.of("fast/fast_gemm 128 49152 mma", "fast/renamed 64 0 ld.v4"), List.of("fast_gemm"));
        assertEquals(List.of("fast/renamed: budget line 2 names a kernel that kernels/fast.cu does not declare"), bad);
    }

    @Test
    void aMalformedBudgetLineNamesItsLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelBudgets.parse(List.of("# comment", "fast/fast_gemm 128 49152 tensor-magic"), "kernels/budgets.txt"));
        assertTrue(e.getMessage().startsWith("kernels/budgets.txt:2: unknown feature 'tensor-magic'"), e.getMessage());
    }
}
