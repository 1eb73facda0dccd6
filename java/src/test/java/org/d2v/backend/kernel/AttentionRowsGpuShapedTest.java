package org.d2v.backend.kernel;

/** {@link AttentionRowsTest} with the GPU-shaped kernels forced (on PoCL in CI): the variants a GPU launches. */
class AttentionRowsGpuShapedTest extends AttentionRowsTest {
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
