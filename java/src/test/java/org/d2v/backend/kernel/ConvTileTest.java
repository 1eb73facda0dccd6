package org.d2v.backend.kernel;

import org.d2v.backend.ConvDesc;
import org.junit.jupiter.api.Test;

/**
 * The register-blocked convolution kernels (work-item tiles of 4 output × 8 input channels per
 * group) against the float64 reference, at channels per group that fill the tiles exactly, leave
 * a remainder, or fall short of one tile: forward with bias, input gradient assigned and
 * accumulated, weight and bias gradients accumulated onto random contents (CPU shape: the
 * register-blocked weight gradient; ConvTileGpuShapedTest: the local-memory tree). Outputs start as NaN.
 * Runs on OpenCL, CPU-shaped; subclasses override {@link #kernelShape()} or {@link #backendName()}.
 */
class ConvTileTest extends KernelTestBase {
    @Override
    protected String backendName() { return "opencl"; }

    /** CPU-shaped kernels here; {@code ConvTileGpuShapedTest} runs the GPU-shaped ones on the same cases. */
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }

    @Test
    void fullTilesTwoLaneChunks() {
        compare(ConvDesc.conv2d(2, 64, 64, 5, 6, 3, 1, 1, 4)); // 16 in, 16 out per group
    }

    @Test
    void exactlyOneTile() {
        compare(ConvDesc.conv2d(3, 128, 64, 4, 3, 3, 1, 1, 16)); // 8 in, 4 out per group (the decoder's shape)
        compare(ConvDesc.conv1d(2, 16, 16, 19, 7, 1, 3, 2));
    }

    @Test
    void remaindersInBothChannelTiles() {
        compare(ConvDesc.conv2d(2, 24, 36, 5, 5, 3, 1, 1, 2)); // 12 in (8 + 4), 18 out (4·4 + 2)
        compare(new ConvDesc(1, 9, 5, 11, 13, 3, 2, 2, 2, 1, 1, 1)); // stride 2: 9 in (8 + 1), 5 out (4 + 1)
    }

    @Test
    void longPixelWalkOfTheWeightGradient() {
        compare(ConvDesc.conv2d(40, 32, 32, 7, 7, 3, 1, 1, 4)); // 1960 output pixels summed per weight
    }

    private void compare(ConvDesc d) {
        String c = String.format("conv B%d %dx%d k%dx%d s%d p%d C%d->%d g%d", d.batch(), d.inH(), d.inW(), d.kH(), d.kW(),
                d.strideW(), d.padW(), d.inC(), d.outC(), d.groups());
        int[] xDims = {d.batch(), d.inH(), d.inW(), d.inC()};
        int[] wDims = {d.outC(), d.kH(), d.kW(), d.inPerGroup()};
        int[] yDims = {d.batch(), d.outH(), d.outW(), d.outC()};
        Pair x = randnInput(xDims), w = randnInput(wDims), bias = randnInput(d.outC()), y = output(yDims);
        dev.ops().conv(d, x.k(), w.k(), bias.k(), y.k());
        ref.ops().conv(d, x.r(), w.r(), bias.r(), y.r());
        assertClose(c + ": y", y);

        Pair dy = randnInput(yDims), dx = output(xDims), dxAcc = randnInput(xDims);
        dev.ops().convBackwardInput(d, dy.k(), w.k(), dx.k(), false);
        ref.ops().convBackwardInput(d, dy.r(), w.r(), dx.r(), false);
        assertClose(c + ": dx", dx);
        dev.ops().convBackwardInput(d, dy.k(), w.k(), dxAcc.k(), true);
        ref.ops().convBackwardInput(d, dy.r(), w.r(), dxAcc.r(), true);
        assertClose(c + ": dx accumulated", dxAcc);

        Pair dw = randnInput(wDims), dbias = randnInput(d.outC());
        dev.ops().convBackwardWeight(d, x.k(), dy.k(), dw.k(), dbias.k());
        ref.ops().convBackwardWeight(d, x.r(), dy.r(), dw.r(), dbias.r());
        assertClose(c + ": dw", dw);
        assertClose(c + ": dbias", dbias);
    }
}
