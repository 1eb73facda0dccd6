package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.d2v.backend.ConvDesc;
import org.junit.jupiter.api.Test;

/**
 * Grouped channels-last convolution kernels against the float64 reference: forward, input
 * gradient (assigned and accumulated) and weight/bias gradients (accumulated onto random
 * contents), shapes from the model at reduced sizes, outputs poisoned with NaN. Runs on OpenCL,
 * CPU-shaped; subclasses override {@link #kernelShape()} or {@link #backendName()}.
 */
public class ConvKernelTest extends KernelTestBase {
    @Override
    protected String backendName() { return "opencl"; }

    /** CPU-shaped kernels here; {@code ConvKernelGpuShapedTest} runs the GPU-shaped ones on the same cases. */
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }

    @Test
    void audioStemFirstLayerKernel10Stride5() {
        compare(ConvDesc.conv1d(2, 1, 24, 163, 10, 5, 0, 1), true);
    }

    @Test
    void audioStemLaterLayerKernel3Stride2() {
        compare(ConvDesc.conv1d(2, 24, 20, 31, 3, 2, 0, 1), false);
    }

    @Test
    void audioDecoder1dPaddedGroups16() {
        compare(ConvDesc.conv1d(2, 48, 48, 37, 5, 1, 2, 16), true);
    }

    @Test
    void imagePatchKernel16Stride16() {
        compare(ConvDesc.conv2d(2, 3, 20, 35, 35, 16, 16, 0, 1), true);
    }

    @Test
    void imageDecoder2dPaddedGroups16() {
        compare(ConvDesc.conv2d(2, 32, 32, 7, 9, 3, 1, 1, 16), true);
    }

    @Test
    void conv2dStride2PaddedNoBias() {
        compare(new ConvDesc(1, 5, 6, 11, 13, 3, 2, 2, 2, 1, 1, 1), false);
    }

    @Test
    void wrongWeightShapeIsRejected() {
        ConvDesc d = ConvDesc.conv1d(1, 4, 4, 8, 3, 1, 1, 1);
        Pair x = randnInput(1, 1, 8, 4), w = randnInput(4, 1, 2, 4), y = output(1, 1, 8, 4);
        assertThrows(IllegalArgumentException.class, () -> dev.ops().conv(d, x.k(), w.k(), null, y.k()));
    }

    /** Forward, input gradient (assigned, then accumulated), then weight and bias gradients. */
    private void compare(ConvDesc d, boolean withBias) {
        String c = String.format("conv B%d %dx%d k%dx%d s%d,%d p%d,%d C%d->%d g%d%s", d.batch(), d.inH(), d.inW(),
                d.kH(), d.kW(), d.strideH(), d.strideW(), d.padH(), d.padW(), d.inC(), d.outC(), d.groups(),
                withBias ? " bias" : "");
        int[] xDims = {d.batch(), d.inH(), d.inW(), d.inC()};
        int[] wDims = {d.outC(), d.kH(), d.kW(), d.inPerGroup()};
        int[] yDims = {d.batch(), d.outH(), d.outW(), d.outC()};
        Pair x = randnInput(xDims), w = randnInput(wDims);
        Pair bias = withBias ? randnInput(d.outC()) : null;
        Pair y = output(yDims);
        dev.ops().conv(d, x.k(), w.k(), bias == null ? null : bias.k(), y.k());
        ref.ops().conv(d, x.r(), w.r(), bias == null ? null : bias.r(), y.r());
        assertClose(c + ": y", y);

        Pair dy = randnInput(yDims);
        Pair dx = output(xDims);
        dev.ops().convBackwardInput(d, dy.k(), w.k(), dx.k(), false);
        ref.ops().convBackwardInput(d, dy.r(), w.r(), dx.r(), false);
        assertClose(c + ": dx", dx);
        Pair dxAcc = randnInput(xDims);
        dev.ops().convBackwardInput(d, dy.k(), w.k(), dxAcc.k(), true);
        ref.ops().convBackwardInput(d, dy.r(), w.r(), dxAcc.r(), true);
        assertClose(c + ": dx accumulated", dxAcc);

        Pair dw = randnInput(wDims);
        Pair dbias = withBias ? randnInput(d.outC()) : null;
        dev.ops().convBackwardWeight(d, x.k(), dy.k(), dw.k(), dbias == null ? null : dbias.k());
        ref.ops().convBackwardWeight(d, x.r(), dy.r(), dw.r(), dbias == null ? null : dbias.r());
        assertClose(c + ": dw", dw);
        if (withBias) assertClose(c + ": dbias", dbias);
    }
}
