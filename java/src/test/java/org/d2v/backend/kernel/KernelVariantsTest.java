package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.kernel.DeviceCapabilities.Kind;
import org.d2v.backend.kernel.KernelVariants.Shape;
import org.d2v.backend.kernel.KernelVariants.Tiled;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The choice of every kernel variant from device capabilities alone, and the forced shapes. */
class KernelVariantsTest {
    private static final DeviceCapabilities POCL = new DeviceCapabilities(Kind.CPU, 8, 4L << 20, 4096, 2);
    private static final DeviceCapabilities H200 = new DeviceCapabilities(Kind.GPU, 32, 48L << 10, 1024, 132);
    /** An OpenCL GPU with the 32 KiB of local memory OpenCL promises at least (many mobile GPUs). */
    private static final DeviceCapabilities SMALL_GPU = new DeviceCapabilities(Kind.GPU, 16, 32L << 10, 512, 8);

    private static final MatmulDesc LINEAR = MatmulDesc.of(64, 64, 64).withTransB(true);
    private static final MatmulDesc PLAIN = MatmulDesc.of(64, 64, 64);

    @Test
    void aCpuGetsTheBarrierFreeKernels() {
        KernelVariants v = KernelVariants.of(POCL, Shape.AUTO);
        assertTrue(v.noneTiled(), v.describe());
        assertEquals("gemm_dot", v.gemm(LINEAR));
        assertEquals("gemm_outer", v.gemm(PLAIN));
        assertEquals("gemm_outer", v.gemm(PLAIN.withTransA(true).withTransB(true)));
    }

    @Test
    void aGpuGetsTheTiledKernelsWhateverItsApi() {
        KernelVariants v = KernelVariants.of(H200, Shape.AUTO);
        assertTrue(v.allTiled(), v.describe());
        assertEquals("gemm", v.gemm(LINEAR));
        assertEquals("gemm", v.gemm(PLAIN));
        assertTrue(KernelVariants.of(new DeviceCapabilities(Kind.ACCELERATOR, 1, 64L << 10, 256, 4), Shape.AUTO).allTiled());
    }

    @Test
    void aGpuTooSmallForOneFamilyRunsThatFamilyCpuShaped() {
        KernelVariants v = KernelVariants.of(SMALL_GPU, Shape.AUTO);
        assertFalse(v.tiled(Tiled.ATTENTION), "attention's tiles need 33152 bytes: " + v.describe());
        assertTrue(v.tiled(Tiled.GEMM) && v.tiled(Tiled.LAYER_NORM) && v.tiled(Tiled.CONV_WEIGHT), v.describe());
    }

    @Test
    void forcedShapes() {
        assertTrue(KernelVariants.of(POCL, Shape.GPU).allTiled());
        assertTrue(KernelVariants.of(H200, Shape.CPU).noneTiled());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelVariants.of(SMALL_GPU, Shape.GPU));
        assertTrue(e.getMessage().contains("attention_forward") && e.getMessage().contains("33152")
                && e.getMessage().contains("32 KiB"), e.getMessage());
    }

    @Test
    void theSystemPropertyIsReadAndCheckedInOnePlace() {
        String before = System.getProperty(KernelVariants.PROPERTY);
        try {
            System.setProperty(KernelVariants.PROPERTY, "GPU");
            assertEquals(Shape.GPU, KernelVariants.of(POCL).requested());
            System.setProperty(KernelVariants.PROPERTY, " cpu ");
            assertTrue(KernelVariants.of(H200).noneTiled());
            System.setProperty(KernelVariants.PROPERTY, "fast");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelVariants.of(POCL));
            assertEquals("-Dd2v.kernelShape=fast: expected auto, cpu or gpu", e.getMessage());
            System.clearProperty(KernelVariants.PROPERTY);
            assertEquals(Shape.AUTO, KernelVariants.of(POCL).requested());
        } finally {
            if (before == null) System.clearProperty(KernelVariants.PROPERTY);
            else System.setProperty(KernelVariants.PROPERTY, before);
        }
    }

    /**
     * The local memory each tiled family is said to need is what nvcc actually gives its largest
     * kernel (ptxas' "smem" per kernel in the packaged report), so the fallback above is decided
     * on true numbers.
     */
    @Test
    void localMemoryNeedsMatchTheCompiledKernels() throws IOException {
        String report;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("org/d2v/kernels/ptxas-report.txt")) {
            Assumptions.assumeTrue(in != null, "no ptxas report in this build (nvcc was not found at build time)");
            report = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Long> smem = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(\\w+/\\w+)\\s+sm_80:\\s+\\d+ regs\\s+(\\d+) B smem").matcher(report);
        while (m.find()) smem.put(m.group(1), Long.parseLong(m.group(2)));
        for (Tiled t : Tiled.values()) {
            long largest = 0;
            for (String k : t.gpuKernels) {
                assertTrue(smem.containsKey(k), k + " is not in the ptxas report");
                largest = Math.max(largest, smem.get(k));
            }
            assertEquals(t.localBytes, largest, t + ": local memory of " + t.gpuKernels);
        }
    }
}
