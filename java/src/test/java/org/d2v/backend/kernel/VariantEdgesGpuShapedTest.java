package org.d2v.backend.kernel;

/** {@link VariantEdgesTest} with the GPU-shaped kernels forced (on PoCL in CI): the variants a GPU launches. */
class VariantEdgesGpuShapedTest extends VariantEdgesTest {
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
