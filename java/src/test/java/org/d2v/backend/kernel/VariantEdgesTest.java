package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The kernel families that have a CPU- and a GPU-shaped variant (GEMM, LayerNorm, attention, the
 * conv weight gradient) at the sizes where tiled kernels go wrong: one below, at and above each
 * work-group tile (64 for GEMM, 16 along k, 256 for LayerNorm's group, 32 query/key rows for
 * attention, 16 weight channels and 256 pixel lanes for the conv tree), head sizes 1 and the
 * 128 maximum, padding that empties whole key tiles. Every tensor is a view at an odd offset
 * inside a larger buffer whose other elements are guards: an output poisoned with NaN outside the
 * view must stay NaN, an input must stay unchanged, so an edge tile that reads or writes out of
 * its tensor (or ignores the offset) fails here even where the values inside come out right.
 * CPU-shaped here; {@code VariantEdgesGpuShapedTest} runs the same cases GPU-shaped.
 */
class VariantEdgesTest extends KernelTestBase {
    private static final int GUARD = 37;

    @Override
    protected String backendName() { return "opencl"; }

    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }

    /** A view of {@code dims} at {@code offset} inside a buffer with GUARD more elements after it, on both devices. */
    private record Guarded(Pair whole, Pair view, int offset, double[] kernelBefore) {}

    private int nextOffset = 3;

    private Guarded guarded(boolean output, int... dims) {
        int n = (int) Shape.of(dims).numel(), offset = nextOffset;
        nextOffset = nextOffset % 29 + 2; // odd offsets 3, 5, ..., 29, then again
        int total = offset + n + GUARD;
        Pair whole = output ? output(total) : randnInput(total);
        Pair view = new Pair(whole.k().view(offset, Shape.of(dims)), whole.r().view(offset, Shape.of(dims)));
        return new Guarded(whole, view, offset, whole.k().toDoubles());
    }

    private Guarded in(int... dims) { return guarded(false, dims); }

    private Guarded out(int... dims) { return guarded(true, dims); }

    private Guarded guardedInts(int[] values, int... dims) {
        int n = values.length, offset = nextOffset;
        nextOffset = nextOffset % 29 + 2;
        int[] all = new int[offset + n + GUARD];
        for (int i = 0; i < all.length; i++) all[i] = -7; // an index no kernel may read as a position
        System.arraycopy(values, 0, all, offset, n);
        Pair whole = new Pair(Tensor.ofInts(dev, Shape.of(all.length), all), Tensor.ofInts(ref, Shape.of(all.length), all));
        Pair view = new Pair(whole.k().view(offset, Shape.of(dims)), whole.r().view(offset, Shape.of(dims)));
        return new Guarded(whole, view, offset, whole.k().toDoubles());
    }

    /** Nothing outside the view changed: outputs' guards still NaN, inputs bit-identical everywhere outside. */
    private static void assertGuards(String what, Guarded... gs) {
        for (Guarded g : gs) {
            if (g == null) continue;
            double[] now = g.whole().k().toDoubles();
            long n = g.view().k().numel();
            for (int i = 0; i < now.length; i++) {
                if (i >= g.offset() && i < g.offset() + n) continue;
                boolean same = Double.isNaN(g.kernelBefore()[i]) ? Double.isNaN(now[i])
                        : Double.doubleToRawLongBits(now[i]) == Double.doubleToRawLongBits(g.kernelBefore()[i]);
                if (!same) {
                    fail(what + ": element " + i + " outside the view [" + g.offset() + ", " + (g.offset() + n)
                            + ") changed from " + g.kernelBefore()[i] + " to " + now[i]);
                }
            }
        }
    }

    /** Inputs must be read, never written: every element of an input's buffer is unchanged. */
    private static void assertUnchanged(String what, Guarded... inputs) {
        for (Guarded g : inputs) {
            if (g == null) continue;
            double[] now = g.whole().k().toDoubles();
            for (int i = 0; i < now.length; i++) {
                assertEquals(Double.doubleToRawLongBits(g.kernelBefore()[i]), Double.doubleToRawLongBits(now[i]),
                        what + ": input element " + i + " was written");
            }
        }
    }

    private static Tensor k(Guarded g) { return g == null ? null : g.view().k(); }

    private static Tensor r(Guarded g) { return g == null ? null : g.view().r(); }

    // ---- GEMM --------------------------------------------------------------------------------------

    @Test
    void matmulAroundTheTiles() {
        int[][] sizes = {{1, 1, 1}, {64, 65, 16}, {65, 64, 17}, {63, 130, 15}, {2, 3, 300}, {130, 1, 33}};
        for (int[] s : sizes) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    matmul(MatmulDesc.of(s[0], s[1], s[2]).withTransA(ta).withTransB(tb).withBatch(2, false), true, false, false);
                }
            }
        }
        MatmulDesc d = MatmulDesc.of(65, 66, 17);
        matmul(d.withBatch(3, true).withTransB(true), true, true, false);
        matmul(d.withActivation(MatmulDesc.Activation.GELU).withTransA(true), true, false, true);
        matmul(d.withActivation(MatmulDesc.Activation.GELU).withTransB(true), false, false, false); // GELU, no pre-activation kept
    }

    private void matmul(MatmulDesc d, boolean bias, boolean accumulate, boolean preact) {
        String c = "matmul " + d.batch() + "x" + d.m() + "x" + d.n() + "x" + d.k() + (d.transA() ? " tA" : "")
                + (d.transB() ? " tB" : "") + (d.broadcastB() ? " bcastB" : "") + (accumulate ? " acc" : "");
        Guarded a = in(d.batch() * d.m() * d.k());
        Guarded b = in((d.broadcastB() ? 1 : d.batch()) * d.k() * d.n());
        Guarded bi = bias ? in(d.n()) : null;
        Guarded out = accumulate ? in(d.batch() * d.m() * d.n()) : out(d.batch() * d.m() * d.n());
        Guarded pre = preact ? out(d.batch() * d.m() * d.n()) : null;
        dev.ops().matmul(d, k(a), k(b), k(bi), k(out), k(pre), accumulate);
        ref.ops().matmul(d, r(a), r(b), r(bi), r(out), r(pre), accumulate);
        assertClose(c, out.view());
        if (pre != null) assertClose(c + " preact", pre.view());
        assertGuards(c, out, pre);
        assertUnchanged(c, a, b, bi);
    }

    // ---- LayerNorm ---------------------------------------------------------------------------------

    @Test
    void layerNormAroundTheGroup() {
        for (int dim : new int[] {1, 255, 256, 257, 513}) {
            for (int rows : new int[] {1, 3}) layerNorm(rows, dim, dim != 257);
        }
    }

    /**
     * A row mean can be near zero while its rounding error is set by the row's values, so a relative
     * error against the mean alone flickers with the seed; this measures the error against the
     * root-mean-square of the inputs it averages.
     */
    private void assertCloseOnScale(String family, Pair p, Pair inputs) {
        double[] k = p.k().toDoubles(), r = p.r().toDoubles(), x = inputs.r().toDoubles();
        double sq = 0;
        for (double v : x) sq += v * v;
        double rms = Math.sqrt(sq / x.length), worstError = 0;
        for (int i = 0; i < k.length; i++) worstError = Math.max(worstError, Math.abs(k[i] - r[i]) / rms);
        noteError(family, worstError);
        assertTrue(worstError <= TOL, family + ": error " + worstError + " of the inputs' rms " + rms + " > " + TOL + " (seed " + seed + ")");
    }

    private void layerNorm(int rows, int dim, boolean affine) {
        String c = "layerNorm " + rows + "x" + dim + (affine ? " affine" : "");
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        Guarded x = in(rows, dim), y = out(rows, dim), mean = out(rows), rstd = out(rows);
        Guarded g = affine ? in(dim) : null, b = affine ? in(dim) : null;
        dev.ops().layerNorm(d, k(x), k(g), k(b), k(y), k(mean), k(rstd));
        ref.ops().layerNorm(d, r(x), r(g), r(b), r(y), r(mean), r(rstd));
        assertClose(c + ": y", y.view());
        assertCloseOnScale(c + ": mean", mean.view(), x.view());
        assertClose(c + ": rstd", rstd.view());
        assertGuards(c, y, mean, rstd);
        Guarded dy = in(rows, dim), dx = in(rows, dim); // dx accumulates onto random values
        Guarded dg = affine ? in(dim) : null, db = affine ? in(dim) : null;
        dev.ops().layerNormBackward(d, k(x), k(g), k(mean), k(rstd), k(dy), k(dx), k(dg), k(db), true);
        ref.ops().layerNormBackward(d, r(x), r(g), r(mean), r(rstd), r(dy), r(dx), r(dg), r(db), true);
        assertClose(c + ": dx accumulated", dx.view());
        if (affine) {
            assertClose(c + ": dgamma", dg.view());
            assertClose(c + ": dbeta", db.view());
        }
        assertGuards(c + " backward", dx, dg, db);
        assertUnchanged(c, x, g, b, dy);
    }

    // ---- attention ---------------------------------------------------------------------------------

    @Test
    void attentionAroundTheRowTile() {
        for (int t : new int[] {1, 31, 32, 33, 64}) attention(AttentionDesc.of(2, t, 1, 8), false);
        attention(AttentionDesc.of(1, 40, 2, 1), false);
        attention(AttentionDesc.of(1, 33, 1, AttentionKernels.MAX_HEAD_DIM), false);
    }

    @Test
    void attentionWithWholeKeyTilesPadded() {
        attention(AttentionDesc.of(3, 100, 2, 12).withKeyPadding(true).withAlibi(true), true);
        attention(AttentionDesc.of(2, 70, 3, 16).withKeyPadding(true).withDropout(0.2, 11, 3), true);
    }

    private void attention(AttentionDesc d, boolean extras) {
        int b = d.batch(), t = d.tokens(), h = d.heads(), dh = d.headDim();
        String c = "attention B" + b + " T" + t + " H" + h + " Dh" + dh + (d.alibi() ? " alibi" : "")
                + (d.keyPadding() ? " pad" : "") + (d.dropout() > 0 ? " drop" : "");
        Guarded qkv = in(b, t, 3, h, dh), slopes = null, scales = null, positions = null, padding = null;
        if (d.alibi()) {
            double[] slope = new double[h], scale = new double[h];
            for (int i = 0; i < h; i++) {
                slope[i] = (float) Math.pow(2, -8.0 * (i + 1) / h);
                scale[i] = (float) (0.25 + rnd.nextDouble());
            }
            slopes = guardedValues(slope);
            scales = guardedValues(scale);
            int[] pos = new int[b * t];
            for (int s = 0; s < b; s++) for (int i = 0; i < t; i++) pos[s * t + i] = 2 * i + s;
            positions = guardedInts(pos, b, t);
        }
        if (d.keyPadding()) {
            // Sample 0 keeps every key; sample s > 0 pads the key tiles [32, 64) and a random tail,
            // so a whole tile of keys is padded while the tiles around it are not.
            int[] pad = new int[b * t];
            for (int s = 1; s < b; s++) {
                int tail = t - 1 - rnd.nextInt(t / 4);
                for (int j = 0; j < t; j++) pad[s * t + j] = (j >= 32 && j < 64) || j > tail ? 1 : 0;
            }
            padding = guardedInts(pad, b, t);
        }
        Guarded out = out(b, t, h, dh), lse = out(b, h, t);
        dev.ops().attention(d, k(qkv), k(slopes), k(scales), k(positions), k(padding), k(out), k(lse));
        ref.ops().attention(d, r(qkv), r(slopes), r(scales), r(positions), r(padding), r(out), r(lse));
        assertClose(c + ": out", out.view());
        assertClose(c + ": lse", lse.view());
        assertGuards(c, out, lse);

        Guarded dout = in(b, t, h, dh), delta = out(b, h, t), dqkv = in(b, t, 3, h, dh);
        Guarded dScale = d.alibi() ? in(h) : null;
        dev.ops().attentionBackward(d, k(qkv), k(slopes), k(scales), k(positions), k(padding), k(out), k(dout), k(lse),
                k(delta), k(dqkv), k(dScale), true);
        ref.ops().attentionBackward(d, r(qkv), r(slopes), r(scales), r(positions), r(padding), r(out), r(dout), r(lse),
                r(delta), r(dqkv), r(dScale), true);
        assertClose(c + ": dqkv accumulated", dqkv.view());
        assertGuards(c + " backward", dqkv, delta, dScale);
        assertUnchanged(c, qkv, slopes, scales, positions, padding, dout);
    }

    private Guarded guardedValues(double[] values) {
        Guarded g = out(values.length);
        g.view().k().copyFrom(values);
        g.view().r().copyFrom(values);
        return new Guarded(g.whole(), g.view(), g.offset(), g.whole().k().toDoubles());
    }

    // ---- conv weight gradient ----------------------------------------------------------------------

    @Test
    void convWeightGradientAroundItsTiles() {
        convWeight(ConvDesc.conv2d(3, 8, 8, 12, 12, 3, 1, 1, 8));    // depthwise: one channel per group, 432 pixels
        convWeight(ConvDesc.conv2d(2, 17, 6, 9, 7, 3, 1, 1, 1));     // 17 channels: one past the 16 of a group
        convWeight(ConvDesc.conv2d(2, 66, 6, 6, 5, 3, 1, 0, 2));     // 33 per group: three channel tiles, no padding
        convWeight(new ConvDesc(2, 40, 10, 13, 11, 5, 5, 2, 2, 2, 2, 1)); // 5×5 stride 2 pad 2: taps outside the image
    }

    private void convWeight(ConvDesc d) {
        String c = String.format("convBackwardWeight B%d %dx%d k%dx%d s%d p%d C%d->%d g%d", d.batch(), d.inH(), d.inW(),
                d.kH(), d.kW(), d.strideW(), d.padW(), d.inC(), d.outC(), d.groups());
        Guarded x = in(d.batch(), d.inH(), d.inW(), d.inC()), dy = in(d.batch(), d.outH(), d.outW(), d.outC());
        Guarded dw = in(d.outC(), d.kH(), d.kW(), d.inPerGroup()), dbias = in(d.outC()); // both accumulate
        dev.ops().convBackwardWeight(d, k(x), k(dy), k(dw), k(dbias));
        ref.ops().convBackwardWeight(d, r(x), r(dy), r(dw), r(dbias));
        assertClose(c + ": dw", dw.view());
        assertClose(c + ": dbias", dbias.view());
        assertGuards(c, dw, dbias);
        assertUnchanged(c, x, dy);
    }

    @Test
    void guardsCatchAWriteOutsideTheView() {
        // The guard check itself must fail when an op writes past its view: fill the whole buffer.
        Guarded g = out(5);
        dev.ops().fill(g.whole().k(), 1.0);
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> assertGuards("fill", g));
        Guarded i = in(5);
        dev.ops().fill(i.view().k(), 2.0);
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> assertUnchanged("fill", i));
    }
}
