package org.d2v.backend.kernel;

import static org.d2v.backend.kernel.KernelChecks.fitsInt;
import static org.d2v.backend.kernel.KernelChecks.require;
import static org.d2v.backend.kernel.KernelChecks.roundUp;

import org.d2v.backend.ConvDesc;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * Launches the grouped channels-last convolution kernels of {@code kernels/conv.cl}: forward
 * (+bias), input gradient, and weight/bias gradients as local-memory reductions (no atomics).
 */
public final class ConvKernels {
    private static final String PROGRAM = "conv";
    private static final int GROUP = 64;
    /** Work-items reducing one bias element: CONV_RED in conv.cl. */
    private static final int REDUCTION = 64;
    /** Work-items of a weight-grad group (CONV_WG in conv.cl) and the most channels one group owns. */
    private static final int WEIGHT_GROUP = 256;
    private static final int MAX_WEIGHT_CHANNELS = 16;

    private final KernelRuntime rt;

    public ConvKernels(KernelRuntime rt) { this.rt = rt; }

    /** See {@link org.d2v.backend.Ops#conv}. */
    public void forward(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        check(d, x, w, y, "conv");
        if (bias != null) require(bias, DType.F32, d.outC(), "conv bias [outC]");
        long n = y.numel();
        rt.launch(PROGRAM, "conv_forward", grid(n), group(), withGeometry(d, new Object[] {x, w, bias, y},
                bias != null ? 1 : 0));
    }

    /** See {@link org.d2v.backend.Ops#convBackwardInput}. */
    public void backwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        check(d, dx, w, dy, "convBackwardInput");
        long n = dx.numel();
        rt.launch(PROGRAM, "conv_backward_input", grid(n), group(), withGeometry(d, new Object[] {dy, w, dx},
                accumulate ? 1 : 0));
    }

    /** See {@link org.d2v.backend.Ops#convBackwardWeight}: dw and dbias always accumulate. */
    public void backwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        check(d, x, dw, dy, "convBackwardWeight");
        if (dbias != null) require(dbias, DType.F32, d.outC(), "convBackwardWeight dbias [outC]");
        int wc = Math.min(MAX_WEIGHT_CHANNELS, Integer.highestOneBit(2 * d.inPerGroup() - 1)); // next power of two
        long groups = (long) d.outC() * d.kH() * d.kW() * ((d.inPerGroup() + wc - 1) / wc);
        rt.launch(PROGRAM, "conv_backward_weight", new long[] {groups * WEIGHT_GROUP}, new long[] {WEIGHT_GROUP},
                withGeometry(d, new Object[] {x, dy, dw}, wc));
        if (dbias != null) {
            int pixels = d.batch() * d.outH() * d.outW();
            rt.launch(PROGRAM, "conv_backward_bias", new long[] {(long) d.outC() * REDUCTION}, new long[] {REDUCTION},
                    dy, dbias, pixels, d.outC());
        }
    }

    private static long[] grid(long n) { return new long[] {roundUp(n, GROUP)}; }

    private static long[] group() { return new long[] {GROUP}; }

    /** tensors, then the geometry in conv.cl's order (B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo), then extra. */
    private static Object[] withGeometry(ConvDesc d, Object[] tensors, Object... extra) {
        Object[] geometry = {d.batch(), d.inC(), d.outC(), d.inH(), d.inW(), d.kH(), d.kW(),
            d.strideH(), d.strideW(), d.padH(), d.padW(), d.groups(), d.outH(), d.outW()};
        Object[] all = new Object[tensors.length + geometry.length + extra.length];
        System.arraycopy(tensors, 0, all, 0, tensors.length);
        System.arraycopy(geometry, 0, all, tensors.length, geometry.length);
        System.arraycopy(extra, 0, all, tensors.length + geometry.length, extra.length);
        return all;
    }

    private static void check(ConvDesc d, Tensor x, Tensor w, Tensor y, String op) {
        require(x, DType.F32, (long) d.batch() * d.inH() * d.inW() * d.inC(), op + " x [B,inH,inW,inC]");
        require(w, DType.F32, (long) d.outC() * d.kH() * d.kW() * d.inPerGroup(), op + " w [outC,kH,kW,inC/groups]");
        require(y, DType.F32, (long) d.batch() * d.outH() * d.outW() * d.outC(), op + " y [B,outH,outW,outC]");
        fitsInt(x, op + " x");
        fitsInt(y, op + " y");
        if (w.numel() * WEIGHT_GROUP > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + w.numel() + " weights are too many for one weight-grad launch");
        }
    }
}
