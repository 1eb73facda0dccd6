package org.d2v.backend.kernel;

/** {@link GemmVariantTest} with the GPU-shaped kernels forced (on PoCL in CI): the variants a GPU launches. */
class GemmVariantGpuShapedTest extends GemmVariantTest {
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
