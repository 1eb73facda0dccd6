package org.d2v.data2vec;

import org.d2v.backend.kernel.KernelVariants;

/** {@link Data2VecBackendTest} with the GPU-shaped kernels forced (on PoCL in CI): whole steps through the kernels a GPU launches. */
class Data2VecBackendGpuShapedTest extends Data2VecBackendTest {
    @Override KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
