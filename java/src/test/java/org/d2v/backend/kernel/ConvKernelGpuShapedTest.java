package org.d2v.backend.kernel;

/** {@link ConvKernelTest} with the GPU-shaped kernels forced (on PoCL in CI): the variants a GPU launches. */
class ConvKernelGpuShapedTest extends ConvKernelTest {
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
