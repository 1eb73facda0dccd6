package org.d2v.backend.cuda;

import jcuda.jcublas.JCublas2;

/**
 * Whether JCublas loads here: it needs libcublas.so.12 (CUDA 12), which a CUDA 13 machine may not
 * have. Optional: the kernels never depend on it, so a failure is a note in the probe, not an error.
 */
final class CublasProbe {
    private static String status;

    private CublasProbe() {}

    /** "cuBLAS: loaded" or "cuBLAS: unavailable (reason)"; probed once, never throws. */
    static synchronized String status() {
        if (status == null) {
            try {
                JCublas2.initialize(); // loads libJCublas2, which links libcublas.so.12
                status = "cuBLAS: loaded (measured by the device check, not used by the ops: the portable GEMM serves every matmul)";
            } catch (Throwable t) { // UnsatisfiedLinkError when libcublas.so.12 is absent
                status = "cuBLAS: unavailable (" + t.getClass().getSimpleName() + ": " + CudaDriver.firstLine(t.getMessage()) + ")";
            }
        }
        return status;
    }
}
