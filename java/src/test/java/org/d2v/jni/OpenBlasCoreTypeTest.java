package org.d2v.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link OpenBlas#CORETYPE_PROPERTY}: by default d2v loads the newest OpenBLAS kernel family the
 * CPU's instructions run, whatever OPENBLAS_CORETYPE the environment holds (some machine images pin
 * Haswell's AVX2 kernels, half the GEMM speed of the AVX-512 ones on a Zen 4), and its description
 * names a value it set aside.
 */
class OpenBlasCoreTypeTest {
    @Test
    void badValuesAreRefusedWithThePropertysName() {
        assertEquals("SKYLAKEX", OpenBlas.coreType(" SKYLAKEX "));
        assertEquals("auto", OpenBlas.coreType("auto"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpenBlas.coreType("skylake x"));
        assertTrue(e.getMessage().contains(OpenBlas.CORETYPE_PROPERTY) && e.getMessage().contains("expected auto, env"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OpenBlas.coreType(""));
    }

    @Test
    void theDefaultLoadsTheNewestFamilyThisCpuRuns() throws IOException {
        assumeTrue(System.getProperty(OpenBlas.CORETYPE_PROPERTY) == null, "a kernel family was chosen for this run");
        assumeTrue(OpenBlas.unavailableReason() == null, () -> "OpenBLAS: " + OpenBlas.unavailableReason());
        Set<String> flags = cpuFlags();
        assumeTrue(!flags.isEmpty(), "no /proc/cpuinfo flags");
        String want = flags.containsAll(Set.of("avx512f", "avx512bw", "avx512vl")) ? "SkylakeX"
                : flags.containsAll(Set.of("avx2", "fma")) ? "Haswell" : null;
        assumeTrue(want != null, "a CPU without AVX2: OpenBLAS's own choice");
        String d = OpenBlas.describe();
        assertTrue(d.contains("(kernels " + want), d);
        String inherited = System.getenv("OPENBLAS_CORETYPE");
        boolean setAside = inherited != null && !inherited.equalsIgnoreCase(want);
        assertEquals(setAside, d.contains("OPENBLAS_CORETYPE=" + inherited + " from the environment set aside"), d);
        System.out.println("MEASURED " + d);
    }

    private static Set<String> cpuFlags() throws IOException {
        Path info = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(info)) return Set.of();
        for (String line : Files.readAllLines(info)) {
            if (line.startsWith("flags")) return Set.of(line.substring(line.indexOf(':') + 1).trim().toLowerCase(Locale.ROOT).split("\\s+"));
        }
        return Set.of();
    }
}
