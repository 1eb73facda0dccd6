package org.d2v.backend.kernel;

/** {@link ConvTileTest} with the GPU-shaped kernels forced (on PoCL in CI): the variants a GPU launches. */
class ConvTileGpuShapedTest extends ConvTileTest {
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
