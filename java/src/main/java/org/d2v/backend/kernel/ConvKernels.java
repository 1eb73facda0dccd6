package org.d2v.backend.kernel;

import static org.d2v.backend.kernel.KernelChecks.fitsInt;
import static org.d2v.backend.kernel.KernelChecks.require;
import static org.d2v.backend.kernel.KernelChecks.roundUp;

import org.d2v.backend.ConvDesc;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * Launches the grouped channels-last convolution kernels of {@code kernels/conv.cl}: forward
 * (+bias), input gradient, and weight/bias gradients (no atomics). Forward and input gradient use
 * the register-blocked kernels (a work-item per channel tile of a pixel); the weight gradient uses,
 * as {@link KernelVariants} chooses, the register-blocked kernel (CPU shape: one work-item walks
 * every pixel of its tile, 20× faster on PoCL) or the local-memory reduction (GPU shape, where that
 * serial walk would leave most of the device idle).
 */
public final class ConvKernels {
    private static final String PROGRAM = "conv";
    private static final int GROUP = 64;
    /** Work-items reducing one bias element: CONV_RED in conv.cl. */
    private static final int REDUCTION = 64;
    /** Work-items of a weight-grad group (CONV_WG in conv.cl) and the most channels one group owns. */
    private static final int WEIGHT_GROUP = 256;
    private static final int MAX_WEIGHT_CHANNELS = 16;
    /** Output channels (CONV_OT) and input channels (CONV_LANES) of one work-item's tile in conv.cl. */
    private static final int OUT_TILE = 4;
    private static final int IN_TILE = 8;

    private final KernelRuntime rt;
    private final KernelVariants variants;

    public ConvKernels(KernelRuntime rt, KernelVariants variants) {
        this.rt = rt;
        this.variants = variants;
    }

    /** The checks of {@link #forward}, for a caller that may hand the call to a fast variant first. */
    public void checkForward(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        check(d, x, w, y, "conv");
        if (bias != null) require(bias, DType.F32, d.outC(), "conv bias [outC]");
    }

    /** The checks of {@link #backwardInput}. */
    public void checkBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx) { check(d, dx, w, dy, "convBackwardInput"); }

    /** The checks of {@link #backwardWeight}. */
    public void checkBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        check(d, x, dw, dy, "convBackwardWeight");
        if (dbias != null) require(dbias, DType.F32, d.outC(), "convBackwardWeight dbias [outC]");
    }

    /** See {@link org.d2v.backend.Ops#conv}. */
    public void forward(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        checkForward(d, x, w, bias, y);
        int tiles = ceilDiv(d.outC() / d.groups(), OUT_TILE);
        long n = (long) d.batch() * d.outH() * d.outW() * d.groups() * tiles;
        rt.launch(PROGRAM, "conv_forward_tiled", grid(n), group(), withGeometry(d, new Object[] {x, w, bias, y},
                bias != null ? 1 : 0, tiles));
    }

    /** See {@link org.d2v.backend.Ops#convBackwardInput}. */
    public void backwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        checkBackwardInput(d, dy, w, dx);
        int tiles = ceilDiv(d.inPerGroup(), IN_TILE);
        long n = (long) d.batch() * d.inH() * d.inW() * d.groups() * tiles;
        rt.launch(PROGRAM, "conv_backward_input_tiled", grid(n), group(), withGeometry(d, new Object[] {dy, w, dx},
                accumulate ? 1 : 0, tiles));
    }

    /** See {@link org.d2v.backend.Ops#convBackwardWeight}: dw and dbias always accumulate. */
    public void backwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        checkBackwardWeight(d, x, dy, dw, dbias);
        if (!variants.tiled(KernelVariants.Tiled.CONV_WEIGHT)) {
            int oTiles = ceilDiv(d.outC() / d.groups(), OUT_TILE), cTiles = ceilDiv(d.inPerGroup(), IN_TILE);
            long n = (long) d.groups() * oTiles * d.kH() * d.kW() * cTiles;
            rt.launch(PROGRAM, "conv_backward_weight_tiled", grid(n), group(), withGeometry(d, new Object[] {x, dy, dw},
                    oTiles, cTiles));
        } else {
            launchWeightReduction(d, x, dy, dw);
        }
        if (dbias != null) {
            int pixels = d.batch() * d.outH() * d.outW();
            rt.launch(PROGRAM, "conv_backward_bias", new long[] {(long) d.outC() * REDUCTION}, new long[] {REDUCTION},
                    dy, dbias, pixels, d.outC());
        }
    }

    private void launchWeightReduction(ConvDesc d, Tensor x, Tensor dy, Tensor dw) {
        int wc = Math.min(MAX_WEIGHT_CHANNELS, Integer.highestOneBit(2 * d.inPerGroup() - 1)); // next power of two
        long groups = (long) d.outC() * d.kH() * d.kW() * ((d.inPerGroup() + wc - 1) / wc);
        rt.launch(PROGRAM, "conv_backward_weight", new long[] {groups * WEIGHT_GROUP}, new long[] {WEIGHT_GROUP},
                withGeometry(d, new Object[] {x, dy, dw}, wc));
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

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
        if (x == null || (x.dtype() != DType.F32 && x.dtype() != DType.BF16)) {
            throw new IllegalArgumentException(op + " x [B,inH,inW,inC] must be F32 or BF16, got " + (x == null ? "none" : x.dtype()));
        }
        DType act = x.dtype();
        boolean weightGrad = op.equals("convBackwardWeight");
        require(x, act, (long) d.batch() * d.inH() * d.inW() * d.inC(), op + " x [B,inH,inW,inC]");
        require(w, weightGrad ? DType.F32 : act, (long) d.outC() * d.kH() * d.kW() * d.inPerGroup(),
                op + (weightGrad ? " dw [outC,kH,kW,inC/groups] (a parameter gradient)" : " w [outC,kH,kW,inC/groups] (stored as x)"));
        require(y, act, (long) d.batch() * d.outH() * d.outW() * d.outC(), op + " y [B,outH,outW,outC] (stored as x)");
        fitsInt(x, op + " x");
        fitsInt(y, op + " y");
        if (w.numel() * WEIGHT_GROUP > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + w.numel() + " weights are too many for one weight-grad launch");
        }
    }
}
