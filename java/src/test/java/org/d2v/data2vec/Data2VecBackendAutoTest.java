package org.d2v.data2vec;

import org.d2v.backend.kernel.KernelVariants;

/**
 * {@link Data2VecBackendTest} on the OpenCL device as a user gets it: kernel shape and fast
 * variants chosen by capability (on PoCL with OpenBLAS installed, every fp32 GEMM of the step runs
 * through openblas/sgemm), against the float64 reference.
 */
class Data2VecBackendAutoTest extends Data2VecBackendTest {
    @Override KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }
}
