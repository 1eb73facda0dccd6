package org.d2v.backend.kernel;

import static org.d2v.backend.kernel.Bf16Naive.bf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.Philox;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Every kernel op in bf16 storage, forward and backward, on fresh random inputs of awkward sizes,
 * outputs poisoned with NaN, judged by the project's rule for bf16 kernels: against the float64
 * reference on the unrounded inputs, the kernel's norm-wise relative error is at most twice that
 * of the same math done naively in bf16 ({@link Bf16Naive}: the unfused decomposition with every
 * intermediate stored in bf16, from the same bf16 inputs; for a primitive op that is the reference
 * op rounding its result to bf16, so the kernel must then round as well as a correctly rounded
 * result). The baseline must not be zero, so the bound is never trivially met. Subclasses pick the
 * backend and the kernel shape (the suite runs CPU- and GPU-shaped on PoCL).
 */
public abstract class KernelBf16Suite extends KernelTestBase {
    /** The project's rule: at most twice the naive bf16 error. */
    static final double RATIO = 2.0;

    private Ops k() { return dev.ops(); }

    private Ops r() { return ref.ops(); }

    // ---- the three sides of a case -------------------------------------------------------------

    /** bf16 storage on the kernel device (rounded on upload). */
    private Tensor kAct(double[] v, int... dims) { return Tensor.of(dev, DType.BF16, Shape.of(dims), v); }

    private Tensor kF32(double[] v, int... dims) { return Tensor.of(dev, DType.F32, Shape.of(dims), v); }

    /** An output on the kernel device, poisoned with NaN. */
    private Tensor kOut(DType t, int... dims) {
        Tensor x = Tensor.empty(dev, t, Shape.of(dims));
        k().fill(x, Double.NaN);
        return x;
    }

    /** Float64 on the reference, on the unrounded values: the exact side. */
    private Tensor exact(double[] v, int... dims) { return Tensor.of(ref, DType.F64, Shape.of(dims), v); }

    private Tensor exactOut(int... dims) { return Tensor.zeros(ref, DType.F64, dims); }

    /** bf16 storage on the reference (rounds every store): the naive side of a primitive op. */
    private Tensor naive(double[] v, int... dims) { return Tensor.of(ref, DType.BF16, Shape.of(dims), v); }

    private Tensor naiveOut(DType t, int... dims) { return Tensor.zeros(ref, t, dims); }

    /**
     * Asserts the rule for one output and notes the ratio: kernel error ≤ 2 × naive error, both
     * against the exact values, the naive error above zero.
     */
    private void judge(String family, Tensor kernel, Tensor exact, double[] naive) { judge(family, kernel, exact, naive, null); }

    /**
     * {@link #judge(String, Tensor, Tensor, double[])} for an output of a few values, where the naive
     * baseline's error is a coin toss: its extra roundings can cancel the inputs' rounding by chance.
     * The baseline is then the larger of the naive error and the error of exact arithmetic on the
     * bf16-rounded inputs ({@code roundedInputs}), which no bf16 kernel can beat but by chance.
     */
    private void judge(String family, Tensor kernel, Tensor exact, double[] naive, Tensor roundedInputs) {
        double[] kv = kernel.toDoubles(), ev = exact.toDoubles();
        assertEquals(ev.length, kv.length, family + ": element count");
        double ek = relError(kv, ev), en = relError(naive, ev);
        double base = roundedInputs == null ? en : Math.max(en, relError(roundedInputs.toDoubles(), ev));
        noteError(family + " (ratio to naive)", ek / base);
        if (!(en > 0)) fail(family + ": the naive bf16 baseline has no error (" + en + "): the case does not test bf16 rounding");
        if (!(ek <= RATIO * base)) {
            fail(String.format("%s on %s (%s shape): bf16 error %.3e > %.1f × %s error %.3e (seed %d)", family, backendName(),
                    kernelShape(), ek, RATIO, roundedInputs == null ? "naive bf16" : "max(naive bf16, rounded inputs)", base, seed));
        }
    }

    private void judge(String family, Tensor kernel, Tensor exact, Tensor naive) { judge(family, kernel, exact, naive.toDoubles()); }

    /** One trial of an op with a single scalar result: the kernel's, the exact and the naive value. */
    private record Scalar(double kernel, double exact, double naive) {}

    /**
     * The rule for an op whose result is one scalar (a sum, a loss), over {@code trials} independent
     * inputs: one scalar's error is a coin toss (the naive baseline's extra roundings can cancel its
     * input rounding by chance), the norm over many trials is not.
     */
    private void judgeScalars(String family, int trials, java.util.function.Supplier<Scalar> trial) {
        double[] kv = new double[trials], ev = new double[trials], nv = new double[trials];
        for (int i = 0; i < trials; i++) {
            Scalar t = trial.get();
            kv[i] = t.kernel();
            ev[i] = t.exact();
            nv[i] = t.naive();
        }
        judge(family + " (" + trials + " trials)", exact(kv, trials), exact(ev, trials), nv);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = new double[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static double[] minus(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] - b[i];
        return out;
    }

    /** a + b elementwise, rounded to float (an fp32 accumulator's add). */
    private static double[] plusF32(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = (float) (a[i] + b[i]);
        return out;
    }

    /** bf(a + b): a bf16 accumulator's add. */
    private static double[] plusBf(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = bf(bf(a[i]) + bf(b[i]));
        return out;
    }

    private double[] randn(int n, double scale, double shift) {
        double[] v = randn(n, scale);
        for (int i = 0; i < n; i++) v[i] = (float) (v[i] + shift);
        return v;
    }

    // ---- memory, casts and elementwise ---------------------------------------------------------

    @Test
    void fillCopyAndCasts() {
        for (int n : new int[] {1, 7, 999}) {
            Tensor x = kOut(DType.BF16, n);
            k().fill(x, 0.1);
            double[] tenth = new double[n];
            java.util.Arrays.fill(tenth, 0.1);
            judge("fill", x, exact(tenth, n), Bf16Naive.bf(tenth));
            double[] v = randn(n);
            Tensor src = kAct(v, n), dst = kOut(DType.BF16, n);
            k().copy(src, dst);
            judge("copy", dst, exact(v, n), Bf16Naive.bf(v));
            assertBitsEqual16("copy is bit for bit", src, dst);
            // down: F32 → BF16, assigned and accumulated
            double[] w = randn(n);
            Tensor down = kOut(DType.BF16, n);
            k().cast(kF32(v, n), down, false);
            judge("cast to bf16", down, exact(v, n), Bf16Naive.bf(v));
            Tensor downAcc = kAct(w, n);
            k().cast(kF32(v, n), downAcc, true);
            // One element's error against the naive baseline is a coin toss (their roundings can cancel), so every
            // size is held to the exact fp32 add and one rounding, bit for bit; the 2x-naive rule where n is large.
            assertBitsEqualDoubles("cast to bf16 += is bf16(bf16(w) + v)", downAcc, roundedSum(Bf16Naive.bf(w), v, true));
            if (n >= 64) judge("cast to bf16 +=", downAcc, exact(plusF32(w, v), n), plusBf(w, v));
            // up: BF16 → F32, exact; accumulated into an fp32 gradient
            Tensor up = kOut(DType.F32, n);
            k().cast(kAct(v, n), up, false);
            judge("cast to f32", up, exact(v, n), Bf16Naive.bf(v));
            Tensor upAcc = kF32(w, n);
            k().cast(kAct(v, n), upAcc, true);
            assertBitsEqualDoubles("cast to f32 += is f32(w + bf16(v))", upAcc, roundedSum(w, Bf16Naive.bf(v), false));
            if (n >= 64) judge("cast to f32 +=", upAcc, exact(plusF32(w, v), n), plusF32(w, Bf16Naive.bf(v)));
        }
    }

    /** NaN stays NaN, ±Inf stays, ties go to even, overflow goes to Inf: on the device and on the host alike. */
    @Test
    void roundingEdgeCasesMatchTheHost() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0.0f,
            Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x3f818000), Float.intBitsToFloat(0x3f808001),
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.intBitsToFloat(0x7f7f7fff), Float.MIN_VALUE, 1e-40f,
            Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xff800001)};
        double[] v = new double[special.length];
        for (int i = 0; i < v.length; i++) v[i] = special[i];
        Tensor down = kOut(DType.BF16, v.length);
        k().cast(kF32(v, v.length), down, false);
        double[] got = down.toDoubles();
        for (int i = 0; i < v.length; i++) {
            float expect = Bf16.round(special[i]);
            assertTrue(Float.floatToIntBits(expect) == Float.floatToIntBits((float) got[i]) || (Float.isNaN(expect) && Double.isNaN(got[i])),
                    "cast of " + special[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(special[i])) + "): device " + got[i]
                            + ", host " + expect);
        }
        assertTrue(Double.isNaN(got[0]) && Double.isNaN(got[13]) && Double.isNaN(got[14]), "NaN stays NaN");
        assertEquals(Double.POSITIVE_INFINITY, got[1]);
        assertEquals(Double.NEGATIVE_INFINITY, got[2]);
        assertEquals(1.0, got[5], "a tie rounds to the even neighbour (down)");
        assertEquals(Float.intBitsToFloat(0x3f820000), got[6], 0, "a tie rounds to the even neighbour (up)");
        assertEquals(Float.intBitsToFloat(0x3f810000), got[7], 0, "above the tie rounds up");
        assertEquals(Double.POSITIVE_INFINITY, got[8], "past the largest bf16 rounds to Inf");
        assertEquals(Float.intBitsToFloat(0x7f7f0000), got[10], 0, "just below the midpoint stays finite");
    }

    @Test
    void elementwise() {
        int n = 1001;
        double[] xv = randn(n), yv = randn(n);
        Tensor y = kAct(yv, n), ye = exact(yv, n), yn = naive(yv, n);
        k().axpby(0.3, kAct(xv, n), -1.7, y);
        r().axpby(0.3, exact(xv, n), -1.7, ye);
        double[] naiveAxpby = new double[n];
        for (int i = 0; i < n; i++) naiveAxpby[i] = bf(bf(0.3 * bf(xv[i])) + bf(-1.7 * bf(yv[i])));
        judge("axpby", y, ye, naiveAxpby);
        Tensor z = kOut(DType.BF16, n), ze = exactOut(n);
        k().axpby(3.1, kAct(xv, n), 0, z); // beta = 0 ignores the NaN poison
        r().axpby(3.1, exact(xv, n), 0, ze);
        Tensor zn = naiveOut(DType.BF16, n);
        r().axpby(3.1, naive(xv, n), 0, zn);
        judge("axpby", z, ze, zn);

        double[] av = randn(7 * 157), bv = randn(7 * 157);
        Tensor o = kOut(DType.BF16, 7, 157), oe = exactOut(7, 157), on = naiveOut(DType.BF16, 7, 157);
        k().add(kAct(av, 7, 157), kAct(bv, 7, 157), o);
        r().add(exact(av, 7, 157), exact(bv, 7, 157), oe);
        r().add(naive(av, 7, 157), naive(bv, 7, 157), on);
        judge("add", o, oe, on);
        double[] wv = randn(n);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor m = acc ? kAct(yv, n) : kOut(DType.BF16, n), me = acc ? exact(yv, n) : exactOut(n);
            k().mul(kAct(xv, n), kAct(wv, n), m, acc);
            r().mul(exact(xv, n), exact(wv, n), me, acc);
            double[] nm = new double[n];
            for (int i = 0; i < n; i++) nm[i] = acc ? bf(bf(yv[i]) + bf(bf(xv[i]) * bf(wv[i]))) : bf(bf(xv[i]) * bf(wv[i]));
            judge("mul" + (acc ? " +=" : ""), m, me, nm);
        }
        for (int[] s : new int[][] {{157, 96}, {3, 7 * 65}}) {
            double[] x = randn(s[0] * s[1]), v = randn(s[1]);
            Tensor ob = kOut(DType.BF16, s[0], s[1]), obe = exactOut(s[0], s[1]), obn = naiveOut(DType.BF16, s[0], s[1]);
            k().addBroadcast(kAct(x, s[0], s[1]), kF32(v, s[1]), ob);
            r().addBroadcast(exact(x, s[0], s[1]), exact(v, s[1]), obe);
            r().addBroadcast(naive(x, s[0], s[1]), naive(v, s[1]), obn);
            judge("addBroadcast", ob, obe, obn);
        }
        String e = assertThrows(IllegalArgumentException.class, () -> k().add(kAct(av, 7, 157), kF32(bv, 7, 157), kOut(DType.BF16, 7, 157)))
                .getMessage();
        assertTrue(e.contains("share a storage dtype") && e.contains("BF16") && e.contains("F32"), e);
    }

    @Test
    void geluAndDropout() {
        int n = 999;
        double[] xv = randn(n, 3.0), dyv = randn(n), old = randn(n);
        Tensor y = kOut(DType.BF16, n), ye = exactOut(n), yn = naiveOut(DType.BF16, n);
        k().gelu(kAct(xv, n), y);
        r().gelu(exact(xv, n), ye);
        r().gelu(naive(xv, n), yn);
        judge("gelu", y, ye, yn);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor dx = acc ? kAct(old, n) : kOut(DType.BF16, n), dxe = acc ? exact(old, n) : exactOut(n);
            k().geluBackward(kAct(xv, n), kAct(dyv, n), dx, acc);
            r().geluBackward(exact(xv, n), exact(dyv, n), dxe, acc);
            // naive: GELU' stored, times dy stored, then +=
            double[] ones = new double[n];
            java.util.Arrays.fill(ones, 1);
            Tensor slope = naiveOut(DType.BF16, n), nd = acc ? naive(old, n) : naiveOut(DType.BF16, n);
            r().geluBackward(naive(xv, n), naive(ones, n), slope, false);
            Tensor prod = naiveOut(DType.BF16, n);
            r().mul(naive(dyv, n), slope, prod, false);
            if (acc) r().add(nd, prod, nd); else r().copy(prod, nd);
            judge("geluBackward" + (acc ? " +=" : ""), dx, dxe, nd);
        }
        long seedP = 0x1234_5678L, offset = 77;
        for (double p : new double[] {0.1, 0.5}) {
            Tensor d = kOut(DType.BF16, n), de = exactOut(n), dn = naiveOut(DType.BF16, n);
            k().dropout(kAct(xv, n), d, p, seedP, offset);
            r().dropout(exact(xv, n), de, p, seedP, offset);
            r().dropout(naive(xv, n), dn, p, seedP, offset);
            double[] kd = d.toDoubles();
            for (int i = 0; i < n; i++) assertEquals(Philox.keep(seedP, offset, i, p), kd[i] != 0, "dropout mask at " + i);
            judge("dropout", d, de, dn);
            Tensor dx = kAct(old, n), dxe = exact(old, n), dxn = naive(old, n);
            k().dropoutBackward(kAct(dyv, n), dx, p, seedP, offset, true);
            r().dropoutBackward(exact(dyv, n), dxe, p, seedP, offset, true);
            r().dropoutBackward(naive(dyv, n), dxn, p, seedP, offset, true);
            judge("dropoutBackward +=", dx, dxe, dxn);
        }
    }

    @Test
    void randomIntoBf16() {
        for (int n : new int[] {7, 1001}) {
            Tensor z = kOut(DType.BF16, n), ze = exactOut(n), u = kOut(DType.BF16, n), ue = exactOut(n);
            k().normal(z, 0.5, 2.0, 11, 3);
            r().normal(ze, 0.5, 2.0, 11, 3);
            judge("normal", z, ze, Bf16Naive.bf(ze.toDoubles()));
            k().uniform(u, 11, 5);
            r().uniform(ue, 11, 5);
            judge("uniform", u, ue, Bf16Naive.bf(ue.toDoubles()));
        }
    }

    // ---- reductions ------------------------------------------------------------------------------

    @Test
    void reductionsKeepFp32Results() {
        for (int[] s : new int[][] {{1, 999, 96}, {3, 1000, 7}, {5, 1, 33}, {2, 64, 768}}) {
            int a = s[0], b = s[1], c = s[2];
            double[] xv = randn(a * b * c), old = randn(a * c), dv = randn(a * c);
            for (boolean acc : new boolean[] {false, true}) {
                Tensor out = acc ? kF32(old, a, c) : kOut(DType.F32, a, c), oute = acc ? exact(old, a, c) : exactOut(a, c);
                Tensor outn = acc ? naive(old, a, c) : naiveOut(DType.BF16, a, c), sum = naiveOut(DType.BF16, a, c);
                k().reduceMiddle(a, b, c, 1.0 / b, kAct(xv, a, b, c), out, acc);
                r().reduceMiddle(a, b, c, 1.0 / b, exact(xv, a, b, c), oute, acc);
                r().reduceMiddle(a, b, c, 1.0, naive(xv, a, b, c), sum, false); // the sum, stored, then the scale
                r().axpby(1.0 / b, sum, acc ? 1 : 0, outn);
                judge("reduceMiddle" + (acc ? " +=" : ""), out, oute, outn);
                Tensor dx = acc ? kAct(xv, a, b, c) : kOut(DType.BF16, a, b, c), dxe = acc ? exact(xv, a, b, c) : exactOut(a, b, c);
                Tensor dxn = acc ? naive(xv, a, b, c) : naiveOut(DType.BF16, a, b, c);
                k().broadcastMiddle(a, b, c, 0.7, kF32(dv, a, c), dx, acc);
                r().broadcastMiddle(a, b, c, 0.7, exact(dv, a, c), dxe, acc);
                r().broadcastMiddle(a, b, c, 0.7, naive(dv, a, c), dxn, acc);
                judge("broadcastMiddle" + (acc ? " +=" : ""), dx, dxe, dxn);
            }
        }
        for (int n : new int[] {7, 999, 100_003}) {
            int trials = n < 1000 ? 32 : 4;
            judgeScalars("sum n" + n, trials, () -> {
                double[] xv = randn(n, 1.0, 0.3);
                Tensor s = kOut(DType.F32, 1), se = exactOut(1), sn = naiveOut(DType.BF16, 1);
                k().sum(kAct(xv, n), s);
                r().sum(exact(xv, n), se);
                r().sum(naive(xv, n), sn);
                return new Scalar(s.item(), se.item(), sn.item());
            });
            judgeScalars("sumSquares n" + n, trials, () -> {
                double[] xv = randn(n, 1.0, 0.3);
                Tensor sq = kOut(DType.F32, 1), sqe = exactOut(1);
                k().sumSquares(kAct(xv, n), sq, false);
                r().sumSquares(exact(xv, n), sqe, false);
                Tensor squares = naiveOut(DType.BF16, n), sqn = naiveOut(DType.BF16, 1);
                r().mul(naive(xv, n), naive(xv, n), squares, false);
                r().sum(squares, sqn);
                return new Scalar(sq.item(), sqe.item(), sqn.item());
            });
        }
    }

    // ---- GEMM ----------------------------------------------------------------------------------

    /**
     * C = op(A)·op(B) (+ bias, GELU with its pre-activation, or accumulated), A and B bf16. The
     * result is bf16, or with {@code fp32Result} an fp32 gradient that the product accumulates into.
     */
    private void checkMatmul(MatmulDesc d, boolean bias, boolean accumulate, boolean preact, boolean fp32Result) {
        String c = String.format("matmul %dx%dx%d b%d%s%s%s%s%s%s", d.m(), d.n(), d.k(), d.batch(), d.transA() ? " tA" : "",
                d.transB() ? " tB" : "", bias ? " bias" : "", d.activation() == MatmulDesc.Activation.GELU ? " gelu" : "",
                accumulate ? " +=" : "", fp32Result ? " ->f32" : "");
        int aRows = d.batch() * (d.transA() ? d.k() : d.m()), aCols = d.transA() ? d.m() : d.k();
        int bRows = (d.broadcastB() ? 1 : d.batch()) * (d.transB() ? d.n() : d.k()), bCols = d.transB() ? d.k() : d.n();
        int cRows = d.batch() * d.m(), n = d.n();
        double[] av = randn(aRows * aCols), bv = randn(bRows * bCols), biasv = bias ? randn(n) : null, old = randn(cRows * n);
        DType cType = fp32Result ? DType.F32 : DType.BF16;
        Tensor kc = accumulate ? Tensor.of(dev, cType, Shape.of(cRows, n), old) : kOut(cType, cRows, n);
        Tensor ec = accumulate ? exact(old, cRows, n) : exactOut(cRows, n);
        boolean gelu = d.activation() == MatmulDesc.Activation.GELU;
        Tensor kp = preact ? kOut(cType, cRows, n) : null, ep = preact ? exactOut(cRows, n) : null;
        k().matmul(d, kAct(av, aRows, aCols), kAct(bv, bRows, bCols), bias ? kF32(biasv, n) : null, kc, kp, accumulate);
        r().matmul(d, exact(av, aRows, aCols), exact(bv, bRows, bCols), bias ? exact(biasv, n) : null, ec, ep, accumulate);
        // naive: the product stored, then + bias, then GELU, then += (into bf16, or an fp32 gradient)
        Tensor product = naiveOut(DType.BF16, cRows, n);
        r().matmul(d.withActivation(MatmulDesc.Activation.NONE), naive(av, aRows, aCols), naive(bv, bRows, bCols), null, product, null, false);
        if (bias) r().addBroadcast(product, naive(biasv, n), product);
        double[] pre = product.toDoubles();
        if (gelu) r().gelu(product, product);
        double[] nc = product.toDoubles();
        if (accumulate) nc = fp32Result ? plusF32(old, nc) : plusBf(old, nc);
        judge(c, kc, ec, nc);
        if (preact) judge(c + " preact", kp, ep, pre);
    }

    @Test
    void matmulShapesAndTransposes() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                checkMatmul(MatmulDesc.of(157, 96, 65).withTransA(ta).withTransB(tb), false, false, false, false);
                checkMatmul(MatmulDesc.of(7, 130, 33).withTransA(ta).withTransB(tb).withBatch(3, false), true, false, false, false);
                checkMatmul(MatmulDesc.of(65, 17, 70).withTransA(ta).withTransB(tb).withBatch(5, true), false, true, false, false);
            }
        }
    }

    @Test
    void matmulEpiloguesAndTheFp32Gradient() {
        MatmulDesc gelu = MatmulDesc.of(157, 96, 48).withTransB(true).withActivation(MatmulDesc.Activation.GELU);
        checkMatmul(gelu, true, false, true, false);
        checkMatmul(gelu, false, false, false, false);
        checkMatmul(MatmulDesc.of(99, 70, 64).withTransB(true).withBatch(3, true), true, false, false, false);
        // the weight gradient of a linear layer: dW (+)= dYᵀ·X, bf16 operands into the fp32 gradient buffer
        checkMatmul(MatmulDesc.of(96, 48, 157).withTransA(true), false, true, false, true);
        checkMatmul(MatmulDesc.of(65, 33, 300).withTransA(true), false, true, false, true);
        checkMatmul(MatmulDesc.of(37, 96, 48).withTransB(true), false, true, false, true); // x·Wᵀ into fp32 (gemm_dot's layout)
        checkMatmul(MatmulDesc.of(300, 768, 96).withTransB(true), true, false, false, false); // one large case
        String e = assertThrows(IllegalArgumentException.class, () -> k().matmul(MatmulDesc.of(4, 4, 4),
                kF32(randn(16), 4, 4), kF32(randn(16), 4, 4), null, kOut(DType.BF16, 4, 4), null, false)).getMessage();
        assertTrue(e.contains("F32 operands with a BF16 result"), e);
    }

    // ---- normalisation ---------------------------------------------------------------------------

    @Test
    void layerNormForwardBackward() {
        for (int[] s : new int[][] {{7, 96}, {157, 768}, {33, 1000}, {999, 65}}) {
            for (boolean affine : new boolean[] {true, false}) {
                int rows = s[0], dim = s[1];
                String c = "layerNorm " + rows + "x" + dim + (affine ? " affine" : "");
                NormDesc d = new NormDesc(rows, dim, 1e-5);
                double[] xv = randn(rows * dim, 1.0, 3.0); // an offset the variance must survive
                double[] gv = affine ? randn(dim, 0.5, 1.0) : null, bv = affine ? randn(dim) : null;
                Tensor y = kOut(DType.BF16, rows, dim), mean = kOut(DType.F32, rows), rstd = kOut(DType.F32, rows);
                Tensor ye = exactOut(rows, dim), meane = exactOut(rows), rstde = exactOut(rows);
                k().layerNorm(d, kAct(xv, rows, dim), affine ? kF32(gv, dim) : null, affine ? kF32(bv, dim) : null, y, mean, rstd);
                r().layerNorm(d, exact(xv, rows, dim), affine ? exact(gv, dim) : null, affine ? exact(bv, dim) : null, ye, meane, rstde);
                double[][] nf = Bf16Naive.layerNorm(Bf16Naive.bf(xv), rows, dim, gv, bv, 1e-5);
                judge(c, y, ye, nf[0]);
                judge(c + " mean", mean, meane, nf[1]);
                judge(c + " rstd", rstd, rstde, nf[2]);

                double[] dyv = randn(rows * dim), dxOld = randn(rows * dim), dgOld = randn(dim), dbOld = randn(dim);
                for (boolean acc : new boolean[] {false, true}) {
                    Tensor dx = acc ? kAct(dxOld, rows, dim) : kOut(DType.BF16, rows, dim), dxe = acc ? exact(dxOld, rows, dim) : exactOut(rows, dim);
                    Tensor dg = affine ? kF32(dgOld, dim) : null, db = affine ? kF32(dbOld, dim) : null;
                    Tensor dge = affine ? exact(dgOld, dim) : null, dbe = affine ? exact(dbOld, dim) : null;
                    // the statistics as the kernel's forward stored them (fp32), and exact on the reference
                    k().layerNormBackward(d, kAct(xv, rows, dim), affine ? kF32(gv, dim) : null, kF32(meane.toDoubles(), rows),
                            kF32(rstde.toDoubles(), rows), kAct(dyv, rows, dim), dx, dg, db, acc);
                    r().layerNormBackward(d, exact(xv, rows, dim), affine ? exact(gv, dim) : null, meane, rstde, exact(dyv, rows, dim),
                            dxe, dge, dbe, acc);
                    double[][] nb = Bf16Naive.layerNormBackward(Bf16Naive.bf(xv), gv, Bf16Naive.bf(meane.toDoubles()),
                            Bf16Naive.bf(rstde.toDoubles()), Bf16Naive.bf(dyv), rows, dim);
                    judge(c + " dx" + (acc ? " +=" : ""), dx, dxe, acc ? plusBf(dxOld, nb[0]) : nb[0]);
                    if (affine) {
                        // fp32 parameter gradients: the increments, as a random start could hide them
                        judge(c + " dgamma", difference(dg, dgOld), difference(dge, dgOld), nb[1]);
                        judge(c + " dbeta", difference(db, dbOld), difference(dbe, dbOld), nb[2]);
                        dgOld = dg.toDoubles();
                        dbOld = db.toDoubles();
                    }
                }
            }
        }
    }

    /** t − start, on the reference (F64): the increment an accumulating op added. */
    private Tensor difference(Tensor t, double[] start) {
        double[] v = minus(t.toDoubles(), start);
        return exact(v, v.length);
    }

    @Test
    void instanceNormForwardBackward() {
        for (int[] s : new int[][] {{3, 157, 7}, {1, 999, 64}}) {
            int batch = s[0], time = s[1], ch = s[2];
            String c = "instanceNorm " + batch + "x" + time + "x" + ch;
            double[] xv = randn(batch * time * ch, 1.0, 2.0), dyv = randn(batch * time * ch), old = randn(batch * time * ch);
            Tensor y = kOut(DType.BF16, batch, time, ch), mean = kOut(DType.F32, batch, ch), rstd = kOut(DType.F32, batch, ch);
            Tensor ye = exactOut(batch, time, ch), meane = exactOut(batch, ch), rstde = exactOut(batch, ch);
            k().instanceNorm(batch, time, ch, 1e-5, kAct(xv, batch, time, ch), y, mean, rstd);
            r().instanceNorm(batch, time, ch, 1e-5, exact(xv, batch, time, ch), ye, meane, rstde);
            double[][] nf = Bf16Naive.instanceNorm(Bf16Naive.bf(xv), batch, time, ch, 1e-5);
            judge(c, y, ye, nf[0]);
            judge(c + " rstd", rstd, rstde, nf[2]);
            for (boolean acc : new boolean[] {false, true}) {
                Tensor dx = acc ? kAct(old, batch, time, ch) : kOut(DType.BF16, batch, time, ch);
                Tensor dxe = acc ? exact(old, batch, time, ch) : exactOut(batch, time, ch);
                k().instanceNormBackward(batch, time, ch, kAct(xv, batch, time, ch), kF32(meane.toDoubles(), batch, ch),
                        kF32(rstde.toDoubles(), batch, ch), kAct(dyv, batch, time, ch), dx, acc);
                r().instanceNormBackward(batch, time, ch, exact(xv, batch, time, ch), meane, rstde, exact(dyv, batch, time, ch), dxe, acc);
                double[] nb = Bf16Naive.instanceNormBackward(Bf16Naive.bf(xv), Bf16Naive.bf(meane.toDoubles()),
                        Bf16Naive.bf(rstde.toDoubles()), Bf16Naive.bf(dyv), batch, time, ch);
                judge(c + " dx" + (acc ? " +=" : ""), dx, dxe, acc ? plusBf(old, nb) : nb);
            }
        }
    }

    // ---- tokens ----------------------------------------------------------------------------------

    private int[] randomInts(int n, int bound) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(bound);
        return v;
    }

    @Test
    void embeddingGatherScatterRepeat() {
        int vocab = 50, dim = 96, n = 157;
        int[] ids = randomInts(n, vocab);
        double[] table = randn(vocab * dim), dout = randn(n * dim), dtable = randn(vocab * dim);
        Tensor out = kOut(DType.BF16, n, dim), oute = exactOut(n, dim), outn = naiveOut(DType.BF16, n, dim);
        k().embedding(Tensor.ofInts(dev, Shape.of(n), ids), kAct(table, vocab, dim), out);
        r().embedding(Tensor.ofInts(ref, Shape.of(n), ids), exact(table, vocab, dim), oute);
        r().embedding(Tensor.ofInts(ref, Shape.of(n), ids), naive(table, vocab, dim), outn);
        judge("embedding", out, oute, outn);
        // the table's gradient is fp32 (the master's), repeated ids included: increments judged
        Tensor dt = kF32(dtable, vocab, dim), dte = exact(dtable, vocab, dim);
        k().embeddingBackward(Tensor.ofInts(dev, Shape.of(n), ids), kAct(dout, n, dim), dt);
        r().embeddingBackward(Tensor.ofInts(ref, Shape.of(n), ids), exact(dout, n, dim), dte);
        Tensor sums = naiveOut(DType.F64, vocab, dim);
        r().embeddingBackward(Tensor.ofInts(ref, Shape.of(n), ids), naive(dout, n, dim), sums);
        judge("embeddingBackward", difference(dt, dtable), difference(dte, dtable), Bf16Naive.bf(sums.toDoubles()));

        int batch = 3, tokens = 157, width = 65, kept = 41;
        int[] idx = distinctRows(batch, tokens, kept);
        double[] src = randn(batch * tokens * width), rows = randn(batch * kept * width), into = randn(batch * tokens * width);
        Tensor g = kOut(DType.BF16, batch, kept, width), ge = exactOut(batch, kept, width), gn = naiveOut(DType.BF16, batch, kept, width);
        k().gatherRows(kAct(src, batch, tokens, width), Tensor.ofInts(dev, Shape.of(batch, kept), idx), g);
        r().gatherRows(exact(src, batch, tokens, width), Tensor.ofInts(ref, Shape.of(batch, kept), idx), ge);
        r().gatherRows(naive(src, batch, tokens, width), Tensor.ofInts(ref, Shape.of(batch, kept), idx), gn);
        judge("gatherRows", g, ge, gn);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor s = kAct(into, batch, tokens, width), se = exact(into, batch, tokens, width), sn = naive(into, batch, tokens, width);
            k().scatterRows(kAct(rows, batch, kept, width), Tensor.ofInts(dev, Shape.of(batch, kept), idx), s, acc);
            r().scatterRows(exact(rows, batch, kept, width), Tensor.ofInts(ref, Shape.of(batch, kept), idx), se, acc);
            r().scatterRows(naive(rows, batch, kept, width), Tensor.ofInts(ref, Shape.of(batch, kept), idx), sn, acc);
            judge("scatterRows" + (acc ? " +=" : ""), s, se, sn);
        }
        int copies = 5;
        double[] x = randn(3 * 7 * 65), dr = randn(3 * copies * 7 * 65), old = randn(3 * 7 * 65);
        Tensor rep = kOut(DType.BF16, 3 * copies, 7 * 65), repe = exactOut(3 * copies, 7 * 65), repn = naiveOut(DType.BF16, 3 * copies, 7 * 65);
        k().repeatRows(kAct(x, 3, 7 * 65), copies, rep);
        r().repeatRows(exact(x, 3, 7 * 65), copies, repe);
        r().repeatRows(naive(x, 3, 7 * 65), copies, repn);
        judge("repeatRows", rep, repe, repn);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor dx = acc ? kAct(old, 3, 7 * 65) : kOut(DType.BF16, 3, 7 * 65), dxe = acc ? exact(old, 3, 7 * 65) : exactOut(3, 7 * 65);
            Tensor dxn = acc ? naive(old, 3, 7 * 65) : naiveOut(DType.BF16, 3, 7 * 65);
            k().sumRepeats(kAct(dr, 3 * copies, 7 * 65), copies, dx, acc);
            r().sumRepeats(exact(dr, 3 * copies, 7 * 65), copies, dxe, acc);
            r().sumRepeats(naive(dr, 3 * copies, 7 * 65), copies, dxn, acc);
            judge("sumRepeats" + (acc ? " +=" : ""), dx, dxe, dxn);
        }
    }

    private int[] distinctRows(int batch, int tokens, int kept) {
        int[] v = new int[batch * kept];
        List<Integer> all = new ArrayList<>();
        for (int t = 0; t < tokens; t++) all.add(t);
        for (int b = 0; b < batch; b++) {
            Collections.shuffle(all, rnd);
            for (int j = 0; j < kept; j++) v[b * kept + j] = all.get(j);
        }
        return v;
    }

    // ---- losses ----------------------------------------------------------------------------------

    @Test
    void losses() {
        int samples = 2, clones = 3, rows = samples * clones, tokens = 157, dim = 96;
        int[] mask = new int[rows * tokens];
        int masked = 0;
        for (int i = 0; i < mask.length; i++) if (rnd.nextDouble() < 0.6) { mask[i] = 1; masked++; }
        LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.0 / Math.sqrt(dim), masked);
        double[] pred = randn(rows * tokens * dim), target = randn(samples * tokens * dim);
        Tensor loss = kOut(DType.F32, 1), dpred = kOut(DType.BF16, rows, tokens, dim);
        Tensor losse = exactOut(1), dprede = exactOut(rows, tokens, dim);
        k().maskedRegression(d, kAct(pred, rows, tokens, dim), kF32(target, samples, tokens, dim),
                Tensor.ofInts(dev, Shape.of(rows, tokens), mask), loss, dpred, 0.5);
        r().maskedRegression(d, exact(pred, rows, tokens, dim), exact(target, samples, tokens, dim),
                Tensor.ofInts(ref, Shape.of(rows, tokens), mask), losse, dprede, 0.5);
        double[] ndpred = new double[pred.length];
        double[] nloss = Bf16Naive.maskedRegression(Bf16Naive.bf(pred), Bf16Naive.bf(target), mask, rows, tokens, dim, clones,
                d.scale() / d.normalizer(), 0.5, ndpred);
        judge("maskedRegression dpred", dpred, dprede, ndpred);
        judgeScalars("maskedRegression loss", 24, () -> {
            int r = 4, tk = 37, dm = 24;
            int[] mk = new int[r * tk];
            int nm = 0;
            for (int i = 0; i < mk.length; i++) if (rnd.nextDouble() < 0.6) { mk[i] = 1; nm++; }
            LossDesc ld = new LossDesc(r, tk, dm, 2, 1.0 / Math.sqrt(dm), Math.max(1, nm));
            double[] pv = randn(r * tk * dm), tv = randn(r / 2 * tk * dm);
            Tensor l = kOut(DType.F32, 1), le = exactOut(1);
            k().maskedRegression(ld, kAct(pv, r, tk, dm), kF32(tv, r / 2, tk, dm), Tensor.ofInts(dev, Shape.of(r, tk), mk), l, null, 1.0);
            r().maskedRegression(ld, exact(pv, r, tk, dm), exact(tv, r / 2, tk, dm), Tensor.ofInts(ref, Shape.of(r, tk), mk), le, null, 1.0);
            double nl = Bf16Naive.maskedRegression(Bf16Naive.bf(pv), Bf16Naive.bf(tv), mk, r, tk, dm, 2, ld.scale() / ld.normalizer(), 1.0,
                    new double[pv.length])[0];
            return new Scalar(l.item(), le.item(), nl);
        });

        for (int[] s : new int[][] {{157, 7}, {9, 1000}}) {
            int n = s[0], classes = s[1];
            double[] logits = randn(n * classes, 4.0);
            int[] labels = randomInts(n, classes);
            Tensor l = kOut(DType.F32, 1), dl = kOut(DType.BF16, n, classes), le = exactOut(1), dle = exactOut(n, classes);
            k().crossEntropy(kAct(logits, n, classes), Tensor.ofInts(dev, Shape.of(n), labels), l, dl, 2.0);
            r().crossEntropy(exact(logits, n, classes), Tensor.ofInts(ref, Shape.of(n), labels), le, dle, 2.0);
            double[] ndl = new double[logits.length];
            Bf16Naive.crossEntropy(Bf16Naive.bf(logits), labels, n, classes, 2.0, ndl);
            judge("crossEntropy " + n + "x" + classes + " dlogits", dl, dle, ndl);
            judgeScalars("crossEntropy " + n + "x" + classes + " loss", 16, () -> {
                double[] lv = randn(n * classes, 4.0);
                int[] lab = randomInts(n, classes);
                Tensor kl = kOut(DType.F32, 1), el = exactOut(1);
                k().crossEntropy(kAct(lv, n, classes), Tensor.ofInts(dev, Shape.of(n), lab), kl, null, 1.0);
                r().crossEntropy(exact(lv, n, classes), Tensor.ofInts(ref, Shape.of(n), lab), el, null, 1.0);
                return new Scalar(kl.item(), el.item(), Bf16Naive.crossEntropy(Bf16Naive.bf(lv), lab, n, classes, 1.0, new double[lv.length]));
            });
        }
    }

    // ---- attention -------------------------------------------------------------------------------

    @Test
    void attentionPlainAndAlibi() {
        attention(AttentionDesc.of(2, 40, 3, 8), false);
        attention(AttentionDesc.of(2, 157, 8, 16).withAlibi(true), true);
        attention(AttentionDesc.of(1, 40, 12, 64).withAlibi(true), false);
    }

    @Test
    void attentionPaddingAndDropout() {
        attention(AttentionDesc.of(3, 40, 2, 32).withKeyPadding(true), true);
        attention(AttentionDesc.of(1, 197, 4, 32).withAlibi(true).withKeyPadding(true).withDropout(0.1, 99, 3), false);
    }

    private void attention(AttentionDesc d, boolean accumulate) {
        int b = d.batch(), t = d.tokens(), h = d.heads(), dh = d.headDim();
        String c = String.format("attention B%d T%d H%d Dh%d%s%s%s%s", b, t, h, dh, d.alibi() ? " alibi" : "",
                d.keyPadding() ? " pad" : "", d.dropout() > 0 ? " drop" : "", accumulate ? " +=" : "");
        double[] qkv = randn(b * t * 3 * h * dh);
        double[] slope = null, scale = null;
        int[] pos = null, pad = null;
        if (d.alibi()) {
            slope = new double[h];
            scale = new double[h];
            for (int i = 0; i < h; i++) {
                slope[i] = (float) Math.pow(2, -8.0 * (i + 1) / h);
                scale[i] = (float) (0.25 + rnd.nextDouble());
            }
            if (h > 2) scale[h - 1] = -0.25; // clamped at zero: no gradient
            pos = new int[b * t];
            for (int i = 0; i < b; i++) {
                int at = rnd.nextInt(3);
                for (int j = 0; j < t; j++) { pos[i * t + j] = at; at += 1 + rnd.nextInt(3); }
            }
        }
        if (d.keyPadding()) {
            pad = new int[b * t];
            for (int i = 1; i < b; i++) for (int j = 1 + rnd.nextInt(t - 1); j < t; j++) pad[i * t + j] = 1;
        }
        Tensor kSlopes = d.alibi() ? kF32(slope, h) : null, kScales = d.alibi() ? kF32(scale, h) : null;
        Tensor eSlopes = d.alibi() ? exact(slope, h) : null, eScales = d.alibi() ? exact(scale, h) : null;
        Tensor kPos = pos == null ? null : Tensor.ofInts(dev, Shape.of(b, t), pos), ePos = pos == null ? null : Tensor.ofInts(ref, Shape.of(b, t), pos);
        Tensor kPad = pad == null ? null : Tensor.ofInts(dev, Shape.of(b, t), pad), ePad = pad == null ? null : Tensor.ofInts(ref, Shape.of(b, t), pad);
        Tensor out = kOut(DType.BF16, b, t, h, dh), lse = kOut(DType.F32, b, h, t), oute = exactOut(b, t, h, dh), lsee = exactOut(b, h, t);
        k().attention(d, kAct(qkv, b, t, 3, h, dh), kSlopes, kScales, kPos, kPad, out, lse);
        r().attention(d, exact(qkv, b, t, 3, h, dh), eSlopes, eScales, ePos, ePad, oute, lsee);
        double[][] nf = Bf16Naive.attention(d, Bf16Naive.bf(qkv), slope, scale, pos, pad);
        judge(c + " out", out, oute, nf[0]);
        judge(c + " lse", lse, lsee, nf[1]);

        double[] dout = randn(b * t * h * dh), old = randn(qkv.length), dScaleOld = randn(h);
        Tensor dqkv = accumulate ? kAct(old, b, t, 3, h, dh) : kOut(DType.BF16, b, t, 3, h, dh);
        Tensor dqkve = accumulate ? exact(old, b, t, 3, h, dh) : exactOut(b, t, 3, h, dh);
        Tensor dScale = d.alibi() ? kF32(dScaleOld, h) : null, dScalee = d.alibi() ? exact(dScaleOld, h) : null;
        // the kernel's backward reads its own forward's outputs (out in bf16, lse in fp32), as in training: an out from other
        // inputs than the P it recomputes would break Σ_j dS_ij = 0, on which dAlibiScale's cancellation rests
        k().attentionBackward(d, kAct(qkv, b, t, 3, h, dh), kSlopes, kScales, kPos, kPad, out,
                kAct(dout, b, t, h, dh), lse, kOut(DType.F32, b, h, t), dqkv, dScale, accumulate);
        r().attentionBackward(d, exact(qkv, b, t, 3, h, dh), eSlopes, eScales, ePos, ePad, oute, exact(dout, b, t, h, dh), lsee,
                exactOut(b, h, t), dqkve, dScalee, accumulate);
        double[][] nb = Bf16Naive.attentionBackward(d, Bf16Naive.bf(qkv), slope, scale, pos, pad, Bf16Naive.bf(dout));
        judge(c + " dqkv", dqkv, dqkve, accumulate ? plusBf(old, nb[0]) : nb[0]);
        // dAlibiScale holds one value per head (3-12 here, one clamped), a sum with heavy cancellation: judged also against
        // exact arithmetic on the rounded inputs (over 450 random cases the kernel's error equalled that error to 3 digits)
        if (d.alibi()) {
            double[] qkvR = Bf16Naive.bf(qkv);
            Tensor outR = exactOut(b, t, h, dh), lseR = exactOut(b, h, t), dScaleR = exact(dScaleOld, h);
            r().attention(d, exact(qkvR, b, t, 3, h, dh), eSlopes, eScales, ePos, ePad, outR, lseR);
            r().attentionBackward(d, exact(qkvR, b, t, 3, h, dh), eSlopes, eScales, ePos, ePad, outR, exact(Bf16Naive.bf(dout), b, t, h, dh),
                    lseR, exactOut(b, h, t), exactOut(b, t, 3, h, dh), dScaleR, false);
            judge(c + " dAlibiScale", difference(dScale, dScaleOld), difference(dScalee, dScaleOld), nb[1], difference(dScaleR, dScaleOld));
        }
    }

    // ---- convolution -----------------------------------------------------------------------------

    @Test
    void convolutions() {
        conv(ConvDesc.conv1d(2, 1, 24, 163, 10, 5, 0, 1), true);        // the audio stem's first layer
        conv(ConvDesc.conv1d(2, 48, 48, 37, 5, 1, 2, 16), true);       // the 1-D decoder, grouped
        conv(ConvDesc.conv2d(2, 3, 20, 35, 35, 16, 16, 0, 1), true);   // image patches
        conv(ConvDesc.conv2d(2, 32, 32, 7, 9, 3, 1, 1, 16), true);     // the 2-D decoder, grouped
        conv(new ConvDesc(1, 5, 6, 11, 13, 3, 2, 2, 2, 1, 1, 1), false);
    }

    private void conv(ConvDesc d, boolean withBias) {
        String c = String.format("conv B%d %dx%d k%dx%d s%d,%d p%d,%d C%d->%d g%d%s", d.batch(), d.inH(), d.inW(), d.kH(), d.kW(),
                d.strideH(), d.strideW(), d.padH(), d.padW(), d.inC(), d.outC(), d.groups(), withBias ? " bias" : "");
        int[] xd = {d.batch(), d.inH(), d.inW(), d.inC()}, wd = {d.outC(), d.kH(), d.kW(), d.inPerGroup()};
        int[] yd = {d.batch(), d.outH(), d.outW(), d.outC()};
        int nx = (int) Shape.of(xd).numel(), nw = (int) Shape.of(wd).numel(), ny = (int) Shape.of(yd).numel();
        double[] x = randn(nx), w = randn(nw), bias = withBias ? randn(d.outC()) : null;
        Tensor y = kOut(DType.BF16, yd), ye = exactOut(yd), yn = naiveOut(DType.BF16, yd);
        k().conv(d, kAct(x, xd), kAct(w, wd), withBias ? kF32(bias, d.outC()) : null, y);
        r().conv(d, exact(x, xd), exact(w, wd), withBias ? exact(bias, d.outC()) : null, ye);
        r().conv(d, naive(x, xd), naive(w, wd), null, yn); // the convolution stored, then + bias
        if (withBias) r().addBroadcast(yn, naive(bias, d.outC()), yn);
        judge(c + " y", y, ye, yn);

        double[] dy = randn(ny), old = randn(nx), dwOld = randn(nw), dbOld = randn(d.outC());
        for (boolean acc : new boolean[] {false, true}) {
            Tensor dx = acc ? kAct(old, xd) : kOut(DType.BF16, xd), dxe = acc ? exact(old, xd) : exactOut(xd);
            Tensor dxn = acc ? naive(old, xd) : naiveOut(DType.BF16, xd);
            k().convBackwardInput(d, kAct(dy, yd), kAct(w, wd), dx, acc);
            r().convBackwardInput(d, exact(dy, yd), exact(w, wd), dxe, acc);
            Tensor t = naiveOut(DType.BF16, xd);
            r().convBackwardInput(d, naive(dy, yd), naive(w, wd), t, false);
            if (acc) r().add(dxn, t, dxn); else r().copy(t, dxn);
            judge(c + " dx" + (acc ? " +=" : ""), dx, dxe, dxn);
        }
        // weight and bias gradients accumulate into fp32 gradients: increments judged
        Tensor dw = kF32(dwOld, wd), dwe = exact(dwOld, wd), db = withBias ? kF32(dbOld, d.outC()) : null;
        Tensor dbe = withBias ? exact(dbOld, d.outC()) : null;
        k().convBackwardWeight(d, kAct(x, xd), kAct(dy, yd), dw, db);
        r().convBackwardWeight(d, exact(x, xd), exact(dy, yd), dwe, dbe);
        Tensor dwn = naiveOut(DType.BF16, wd), dbn = withBias ? naiveOut(DType.BF16, d.outC()) : null;
        r().convBackwardWeight(d, naive(x, xd), naive(dy, yd), dwn, dbn);
        judge(c + " dw", difference(dw, dwOld), difference(dwe, dwOld), dwn);
        if (withBias) judge(c + " dbias", difference(db, dbOld), difference(dbe, dbOld), dbn);
    }

    // ---- optimiser: fp32 masters, the bf16 working copy written in the same launch ---------------

    /**
     * AdamW and the EMA update run on fp32 masters (against the reference to the fp32 tolerance, as
     * in the fp32 suite) and round the new masters into the bf16 working copy in the same launch:
     * that copy equals the masters rounded to bf16, bit for bit.
     */
    @Test
    void adamwAndEmaWriteTheWorkingCopy() {
        int n = 1001;
        double[] pv = randn(n), gv = randn(n), mv = randn(n, 0.1), vv = randn(n, 0.01);
        for (int i = 0; i < n; i++) vv[i] = Math.abs(vv[i]);
        Pair p = input(pv, n), g = input(gv, n), m = input(mv, n), v = input(vv, n), scale = input(new double[] {0.7}, 1);
        Tensor work = kOut(DType.BF16, n), refWork = naiveOut(DType.BF16, n);
        for (long step = 1; step <= 3; step++) {
            AdamWDesc d = new AdamWDesc(1e-3, 0.9, 0.98, 1e-6, 0.05, step);
            k().adamw(d, p.k(), g.k(), m.k(), v.k(), scale.k(), work);
            r().adamw(d, p.r(), g.r(), m.r(), v.r(), scale.r(), refWork);
        }
        assertClose("adamw param", p);
        assertClose("adamw m", m);
        assertBf16Of("adamw working copy", p.k(), work);
        judge("adamw working copy", work, p.r(), refWork);
        Pair t = randnInput(n), st = randnInput(n);
        Tensor twork = kOut(DType.BF16, n);
        k().ema(t.k(), st.k(), 0.999, twork);
        r().ema(t.r(), st.r(), 0.999);
        assertClose("ema", t);
        assertBf16Of("ema working copy", t.k(), twork);
    }

    /** {@code copy} holds {@code master} rounded to bf16, bit for bit (the host's rounding). */
    private static void assertBf16Of(String what, Tensor master, Tensor copy) {
        double[] x = master.toDoubles(), y = copy.toDoubles();
        for (int i = 0; i < x.length; i++) {
            assertTrue(Bf16.bits((float) x[i]) == Bf16.bits((float) y[i]), what + ": element " + i + " master " + x[i] + " copy " + y[i]);
        }
    }

    // ---- what bf16 does not store --------------------------------------------------------------

    /** Statistics, losses, biases and optimiser state are fp32: a bf16 tensor there is refused, naming it. */
    @Test
    void fp32RolesRefuseBf16() {
        NormDesc d = new NormDesc(3, 8, 1e-5);
        String e = assertThrows(IllegalArgumentException.class, () -> k().layerNorm(d, kAct(randn(24), 3, 8), null, null,
                kOut(DType.BF16, 3, 8), kOut(DType.BF16, 3), kOut(DType.F32, 3))).getMessage();
        assertTrue(e.contains("layerNorm") && e.contains("must be F32") && e.contains("BF16"), e);
        String a = assertThrows(IllegalArgumentException.class, () -> k().adamw(new AdamWDesc(1e-3, 0.9, 0.98, 1e-6, 0, 1),
                kAct(randn(8), 8), kF32(randn(8), 8), kF32(randn(8), 8), kF32(randn(8), 8), null)).getMessage();
        assertTrue(a.contains("adamw") && a.contains("must be F32"), a);
        String w = assertThrows(IllegalArgumentException.class, () -> k().adamw(new AdamWDesc(1e-3, 0.9, 0.98, 1e-6, 0, 1),
                kF32(randn(8), 8), kF32(randn(8), 8), kF32(randn(8), 8), kF32(randn(8), 8), null, kF32(randn(8), 8))).getMessage();
        assertTrue(w.contains("working copy") && w.contains("BF16"), w);
        String f = assertThrows(IllegalArgumentException.class, () -> Tensor.empty(dev, DType.F64, 4)).getMessage();
        assertTrue(f.contains("F64"), f);
    }

    /** (float) a + (float) b in fp32, then rounded to bf16 when {@code toBf16}: what an accumulating cast stores. */
    private static double[] roundedSum(double[] a, double[] b, boolean toBf16) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            float sum = (float) a[i] + (float) b[i];
            out[i] = toBf16 ? org.d2v.tensor.Bf16.round(sum) : sum;
        }
        return out;
    }

    private static void assertBitsEqualDoubles(String what, Tensor got, double[] expected) {
        double[] g = got.toDoubles();
        assertEquals(expected.length, g.length, what + ": element count");
        for (int i = 0; i < g.length; i++) {
            assertEquals(Float.floatToIntBits((float) expected[i]), Float.floatToIntBits((float) g[i]),
                    what + ": element " + i + " is " + g[i] + ", expected " + expected[i]);
        }
    }

    private static void assertBitsEqual16(String what, Tensor a, Tensor b) {
        double[] x = a.toDoubles(), y = b.toDoubles();
        for (int i = 0; i < x.length; i++) {
            assertTrue(Bf16.bits((float) x[i]) == Bf16.bits((float) y[i]), what + ": element " + i + " " + x[i] + " vs " + y[i]);
        }
    }
}
