package org.d2v.backend.kernel;

/** {@link AttentionKernelTest} with the GPU-shaped kernels forced (on PoCL in CI): the variants a GPU launches. */
class AttentionKernelGpuShapedTest extends AttentionKernelTest {
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
