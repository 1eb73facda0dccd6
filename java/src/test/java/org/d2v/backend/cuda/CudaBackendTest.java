package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.junit.jupiter.api.Test;

/** The CUDA backend's behaviour that does not need a GPU: discovery, safe probing, launch geometry. */
class CudaBackendTest {

    @Test
    void probeNeverThrowsAndExplainsItself() {
        Backend cuda = Backends.find("cuda");
        assertEquals(300, cuda.priority());
        Backend.Probe first = cuda.probe(); // on a machine without libcuda.so.1 this is where JCuda throws an Error
        Backend.Probe again = cuda.probe(); // remembered, and still no exception the second time
        assertEquals(first, again);
        assertNotNull(first.detail());
        System.out.println("cuda probe: " + first);
        CudaDriver.Detected d = CudaDriver.detect();
        if (!d.found()) {
            assertFalse(first.available());
            assertEquals(d.reason(), first.detail());
            String prefix = first.detail().startsWith("no CUDA driver: ") ? "no CUDA driver: " : "CUDA driver present but unusable: ";
            assertTrue(first.detail().startsWith(prefix), first.detail());
            assertTrue(first.detail().length() > prefix.length() + 3, "the reason is named: " + first.detail());
        } else if (CudaKernels.programs().isEmpty()) {
            assertFalse(first.available());
            assertTrue(first.detail().startsWith("no CUDA kernels in this build"), first.detail());
        }
    }

    @Test
    void autoStillFindsABackendWithoutCuda() {
        Backend chosen = Backends.auto();
        if (!new CudaBackend().probe().available()) assertFalse(chosen.name().equals("cuda"));
        else assertEquals("cuda", chosen.name());
    }

    @Test
    void openWithoutCudaSaysWhy() {
        Backend.Probe p = new CudaBackend().probe();
        if (p.available()) return; // opening works there: CudaKernelTest covers it
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CudaBackend().open());
        assertTrue(e.getMessage().contains(p.detail()), e.getMessage());
    }

    @Test
    void cublasIsProbedSafely() {
        String status = CublasGemm.status(); // UnsatisfiedLinkError without libcublas.so.12: caught, remembered
        System.out.println(status);
        assertTrue(status.startsWith("cuBLAS: loaded") || status.startsWith("cuBLAS: unavailable ("), status);
        assertEquals(status, CublasGemm.status());
    }

    @Test
    void blockSizesFollowOpenClSemantics() {
        assertArrayEquals(new int[] {256, 1, 1}, CudaRuntime.blockSize(new long[] {1024}, new long[] {256}));
        assertArrayEquals(new int[] {16, 16, 1}, CudaRuntime.blockSize(new long[] {64, 32}, new long[] {16, 16}));
        // no local size: the largest power of two ≤ 256 dividing each global size, so exactly global threads run
        assertArrayEquals(new int[] {4, 1, 1}, CudaRuntime.blockSize(new long[] {12}, null));
        assertArrayEquals(new int[] {256, 1, 1}, CudaRuntime.blockSize(new long[] {1 << 20, 3}, null));
        assertArrayEquals(new int[] {8, 32, 1}, CudaRuntime.blockSize(new long[] {40, 96}, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaRuntime.blockSize(new long[] {1000}, new long[] {256}));
        assertTrue(e.getMessage().contains("not a multiple"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaRuntime.blockSize(new long[] {1, 1, 1, 1}, null));
        assertThrows(IllegalArgumentException.class, () -> CudaRuntime.blockSize(new long[] {64, 64}, new long[] {64}));
    }
}
