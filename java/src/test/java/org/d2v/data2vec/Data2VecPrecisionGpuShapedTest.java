package org.d2v.data2vec;

import org.d2v.backend.kernel.KernelVariants;

/** {@link Data2VecPrecisionTest} with the GPU-shaped kernels forced on PoCL: the bf16 step a GPU runs. */
class Data2VecPrecisionGpuShapedTest extends Data2VecPrecisionTest {
    @Override KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
