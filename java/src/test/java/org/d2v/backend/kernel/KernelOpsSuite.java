package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.Philox;
import org.d2v.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * Every kernel op, forward and backward, against the float64 reference on fresh random inputs of
 * awkward sizes (not multiples of the tiles), outputs poisoned with NaN. Subclasses pick the
 * backend: OpenClKernelTest, CudaKernelTest.
 */
public abstract class KernelOpsSuite extends KernelTestBase {

    private Ops k() { return dev.ops(); }

    private Ops r() { return ref.ops(); }

    // ---- memory and elementwise ----------------------------------------------------------------

    @Test
    void fillAndCopy() {
        for (int n : new int[] {1, 7, 999}) {
            Pair x = output(n);
            k().fill(x.k(), 0.25);
            r().fill(x.r(), 0.25);
            assertClose("fill", x);
            Pair src = randnInput(n), dst = output(n);
            k().copy(src.k(), dst.k());
            r().copy(src.r(), dst.r());
            assertClose("copy", dst);
        }
    }

    @Test
    void axpbyAndAdd() {
        int n = 1001;
        Pair x = randnInput(n), y = randnInput(n);
        k().axpby(0.5, x.k(), -2.0, y.k());
        r().axpby(0.5, x.r(), -2.0, y.r());
        assertClose("axpby", y);
        Pair z = output(n); // beta = 0 must ignore the NaN poison
        k().axpby(3.0, x.k(), 0.0, z.k());
        r().axpby(3.0, x.r(), 0.0, z.r());
        assertClose("axpby", z);
        Pair a = randnInput(7, 157), b = randnInput(7, 157), out = output(7, 157);
        k().add(a.k(), b.k(), out.k());
        r().add(a.r(), b.r(), out.r());
        assertClose("add", out);
    }

    // ---- GEMM ----------------------------------------------------------------------------------

    private void checkMatmul(MatmulDesc d, boolean bias, boolean accumulate, boolean preact) {
        int aRows = d.batch() * (d.transA() ? d.k() : d.m()), aCols = d.transA() ? d.m() : d.k();
        int bBatch = d.broadcastB() ? 1 : d.batch();
        Pair a = randnInput(aRows, aCols);
        Pair b = randnInput(bBatch * (d.transB() ? d.n() : d.k()), d.transB() ? d.k() : d.n());
        Pair bi = bias ? randnInput(d.n()) : null;
        Pair c = accumulate ? randnInput(d.batch() * d.m(), d.n()) : output(d.batch() * d.m(), d.n());
        Pair pre = preact ? output(d.batch() * d.m(), d.n()) : null;
        k().matmul(d, a.k(), b.k(), bi == null ? null : bi.k(), c.k(), pre == null ? null : pre.k(), accumulate);
        r().matmul(d, a.r(), b.r(), bi == null ? null : bi.r(), c.r(), pre == null ? null : pre.r(), accumulate);
        assertClose("matmul", c);
        if (pre != null) assertClose("matmul preact", pre);
    }

    @Test
    void matmulShapesAndTransposes() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                checkMatmul(MatmulDesc.of(1, 1, 1).withTransA(ta).withTransB(tb), false, false, false);
                checkMatmul(MatmulDesc.of(157, 96, 65).withTransA(ta).withTransB(tb), false, false, false);
                checkMatmul(MatmulDesc.of(7, 130, 33).withTransA(ta).withTransB(tb).withBatch(3, false), true, false, false);
                checkMatmul(MatmulDesc.of(65, 17, 70).withTransA(ta).withTransB(tb).withBatch(5, true), false, true, false);
            }
        }
    }

    @Test
    void matmulBatchedBroadcastBiasGeluAccumulate() {
        checkMatmul(MatmulDesc.of(99, 70, 64).withTransB(true).withBatch(3, true), true, false, false);
        checkMatmul(MatmulDesc.of(65, 127, 31).withBatch(2, false), false, true, false);
        MatmulDesc gelu = MatmulDesc.of(157, 96, 48).withTransB(true).withActivation(MatmulDesc.Activation.GELU);
        checkMatmul(gelu, true, false, true);
        checkMatmul(gelu, false, false, false);
        checkMatmul(MatmulDesc.of(300, 768, 96).withTransB(true), true, false, false); // one large case
        Pair a = randnInput(4, 4), b = randnInput(4, 4), c = randnInput(4, 4);
        assertThrows(IllegalArgumentException.class, () -> k().matmul(gelu.withActivation(MatmulDesc.Activation.GELU),
                a.k(), b.k(), null, c.k(), null, true));
    }

    @Test
    void mulAndBroadcasts() {
        Pair a = randnInput(157, 96), b = randnInput(157, 96), out = output(157, 96);
        k().mul(a.k(), b.k(), out.k(), false);
        r().mul(a.r(), b.r(), out.r(), false);
        assertClose("mul", out);
        k().mul(a.k(), b.k(), out.k(), true);
        r().mul(a.r(), b.r(), out.r(), true);
        assertClose("mul", out);
        for (int[] s : new int[][] {{157, 96}, {3, 7 * 65}}) {
            Pair x = randnInput(s[0], s[1]), v = randnInput(s[1]), o = output(s[0], s[1]);
            k().addBroadcast(x.k(), v.k(), o.k());
            r().addBroadcast(x.r(), v.r(), o.r());
            assertClose("addBroadcast", o);
        }
        Pair pos = randnInput(7, 65), x = randnInput(3, 7, 65), o = output(3, 7, 65); // a table added to every sample
        k().addBroadcast(x.k(), pos.k(), o.k());
        r().addBroadcast(x.r(), pos.r(), o.r());
        assertClose("addBroadcast", o);
    }

    @Test
    void reduceAndBroadcastMiddle() {
        for (int[] s : new int[][] {{1, 999, 96}, {3, 1000, 7}, {3, 157, 7}, {5, 1, 33}, {2, 64, 768}}) {
            int a = s[0], b = s[1], c = s[2];
            Pair x = randnInput(a, b, c), out = output(a, c);
            k().reduceMiddle(a, b, c, 1.0 / b, x.k(), out.k(), false);
            r().reduceMiddle(a, b, c, 1.0 / b, x.r(), out.r(), false);
            assertClose("reduceMiddle", out);
            k().reduceMiddle(a, b, c, 2.0, x.k(), out.k(), true);
            r().reduceMiddle(a, b, c, 2.0, x.r(), out.r(), true);
            assertClose("reduceMiddle", out);
            Pair dout = randnInput(a, c), dx = output(a, b, c);
            k().broadcastMiddle(a, b, c, 0.5, dout.k(), dx.k(), false);
            r().broadcastMiddle(a, b, c, 0.5, dout.r(), dx.r(), false);
            assertClose("broadcastMiddle", dx);
            k().broadcastMiddle(a, b, c, -1.0, dout.k(), dx.k(), true);
            r().broadcastMiddle(a, b, c, -1.0, dout.r(), dx.r(), true);
            assertClose("broadcastMiddle", dx);
        }
    }

    @Test
    void sums() {
        for (int n : new int[] {1, 7, 999, 100_003}) {
            // Mean 0.5, so that the sum stays well away from zero: a sum of 100,003 N(0, 1) values
            // lands within fp32's rounding (~6e-5) of zero in about one draw in 60 and then fails a
            // relative bound for reasons that are not the kernel's.
            double[] v = randn(n);
            for (int i = 0; i < n; i++) v[i] = (float) (v[i] + 0.5);
            Pair x = input(v, n), s = output(1), sq = output(1);
            k().sum(x.k(), s.k());
            r().sum(x.r(), s.r());
            assertClose("sum", s);
            k().sumSquares(x.k(), sq.k(), false);
            r().sumSquares(x.r(), sq.r(), false);
            assertClose("sumSquares", sq);
            k().sumSquares(x.k(), sq.k(), true);
            r().sumSquares(x.r(), sq.r(), true);
            assertClose("sumSquares", sq);
        }
    }

    // ---- activations -----------------------------------------------------------------------------

    @Test
    void geluForwardBackward() {
        Pair x = input(randn(999, 3.0), 999), y = output(999);
        k().gelu(x.k(), y.k());
        r().gelu(x.r(), y.r());
        assertClose("gelu", y);
        Pair dy = randnInput(999), dx = output(999);
        k().geluBackward(x.k(), dy.k(), dx.k(), false);
        r().geluBackward(x.r(), dy.r(), dx.r(), false);
        assertClose("geluBackward", dx);
        k().geluBackward(x.k(), dy.k(), dx.k(), true);
        r().geluBackward(x.r(), dy.r(), dx.r(), true);
        assertClose("geluBackward", dx);
    }

    /**
     * GELU and its derivative on a dense sweep of [-10, 10] (the OpenCL dialect's own erf
     * approximation covers every branch here): each element within a few float32 roundings of the
     * float64 reference, measured against the function's scale max(1, |x|).
     */
    @Test
    void geluDenseSweep() {
        int n = 200_001;
        double[] xv = new double[n];
        for (int i = 0; i < n; i++) xv[i] = (float) (-10.0 + 20.0 * i / (n - 1));
        Pair x = input(xv, n), y = output(n), dy = input(ones(n), n), dx = output(n);
        k().gelu(x.k(), y.k());
        r().gelu(x.r(), y.r());
        k().geluBackward(x.k(), dy.k(), dx.k(), false);
        r().geluBackward(x.r(), dy.r(), dx.r(), false);
        assertElementwise("gelu sweep", xv, y, 4e-7);
        assertElementwise("geluBackward sweep", xv, dx, 4e-7);
    }

    private static double[] ones(int n) {
        double[] v = new double[n];
        java.util.Arrays.fill(v, 1.0);
        return v;
    }

    private void assertElementwise(String family, double[] xv, Pair p, double tol) {
        double[] k = p.k().toDoubles(), r = p.r().toDoubles();
        double worstSeen = 0;
        for (int i = 0; i < k.length; i++) {
            double e = Math.abs(k[i] - r[i]) / Math.max(1, Math.abs(xv[i]));
            if (!(e <= tol)) org.junit.jupiter.api.Assertions.fail(String.format("%s on %s: x = %s kernel %s reference %s (error %.3e > %.1e)",
                    family, backendName(), xv[i], k[i], r[i], e, tol));
            worstSeen = Math.max(worstSeen, e);
        }
        noteError(family, worstSeen);
    }

    // ---- normalisation ---------------------------------------------------------------------------

    @Test
    void layerNormForwardBackward() {
        for (int[] s : new int[][] {{1, 64}, {7, 96}, {157, 768}, {33, 1000}, {999, 65}}) {
            for (boolean affine : new boolean[] {true, false}) {
                int rows = s[0], dim = s[1];
                NormDesc d = new NormDesc(rows, dim, 1e-5);
                double[] xv = randn(rows * dim);
                for (int i = 0; i < xv.length; i++) xv[i] = (float) (xv[i] + 3.0); // an offset the variance must survive
                Pair x = input(xv, rows, dim), y = output(rows, dim), mean = output(rows), rstd = output(rows);
                Pair g = affine ? randnInput(dim) : null, b = affine ? randnInput(dim) : null;
                k().layerNorm(d, x.k(), g == null ? null : g.k(), b == null ? null : b.k(), y.k(), mean.k(), rstd.k());
                r().layerNorm(d, x.r(), g == null ? null : g.r(), b == null ? null : b.r(), y.r(), mean.r(), rstd.r());
                assertClose("layerNorm", y);
                assertClose("layerNorm mean", mean);
                assertClose("layerNorm rstd", rstd);
                Pair dy = randnInput(rows, dim), dx = output(rows, dim);
                Pair dg = affine ? randnInput(dim) : null, db = affine ? randnInput(dim) : null; // they accumulate
                for (boolean acc : new boolean[] {false, true}) {
                    k().layerNormBackward(d, x.k(), g == null ? null : g.k(), mean.k(), rstd.k(), dy.k(), dx.k(),
                            dg == null ? null : dg.k(), db == null ? null : db.k(), acc);
                    r().layerNormBackward(d, x.r(), g == null ? null : g.r(), mean.r(), rstd.r(), dy.r(), dx.r(),
                            dg == null ? null : dg.r(), db == null ? null : db.r(), acc);
                    assertClose("layerNormBackward dx", dx);
                    if (affine) {
                        assertClose("layerNormBackward dgamma", dg);
                        assertClose("layerNormBackward dbeta", db);
                    }
                }
            }
        }
    }

    @Test
    void instanceNormForwardBackward() {
        for (int[] s : new int[][] {{3, 157, 7}, {1, 999, 64}, {2, 1, 5}}) {
            int batch = s[0], time = s[1], ch = s[2];
            Pair x = randnInput(batch, time, ch), y = output(batch, time, ch), mean = output(batch, ch), rstd = output(batch, ch);
            k().instanceNorm(batch, time, ch, 1e-5, x.k(), y.k(), mean.k(), rstd.k());
            r().instanceNorm(batch, time, ch, 1e-5, x.r(), y.r(), mean.r(), rstd.r());
            assertClose("instanceNorm", y);
            assertClose("instanceNorm rstd", rstd);
            Pair dy = randnInput(batch, time, ch), dx = output(batch, time, ch);
            for (boolean acc : new boolean[] {false, true}) {
                k().instanceNormBackward(batch, time, ch, x.k(), mean.k(), rstd.k(), dy.k(), dx.k(), acc);
                r().instanceNormBackward(batch, time, ch, x.r(), mean.r(), rstd.r(), dy.r(), dx.r(), acc);
                assertClose("instanceNormBackward", dx);
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
    void embeddingForwardBackward() {
        int vocab = 50, dim = 96, n = 157;
        Pair ids = ints(randomInts(n, vocab), n), table = randnInput(vocab, dim), out = output(n, dim);
        k().embedding(ids.k(), table.k(), out.k());
        r().embedding(ids.r(), table.r(), out.r());
        assertClose("embedding", out);
        Pair dout = randnInput(n, dim), dtable = randnInput(vocab, dim); // accumulates, repeated ids included
        k().embeddingBackward(ids.k(), dout.k(), dtable.k());
        r().embeddingBackward(ids.r(), dout.r(), dtable.r());
        assertClose("embeddingBackward", dtable);
        Pair bad = ints(new int[] {0, vocab}, 2);
        Pair out2 = output(2, dim);
        // checked on the device: the next download throws (see indexErrorsAreFlaggedOnTheDevice)
        assertThrows(IllegalArgumentException.class, () -> {
            k().embedding(bad.k(), table.k(), out2.k());
            out2.k().toDoubles();
        });
    }

    /** For each sample, {@code kept} distinct positions out of {@code tokens}. */
    private int[] distinctRows(int batch, int tokens, int kept) {
        int[] v = new int[batch * kept];
        List<Integer> all = new ArrayList<>();
        for (int t = 0; t < tokens; t++) all.add(t);
        for (int b = 0; b < batch; b++) {
            Collections.shuffle(all, rnd);
            for (int k = 0; k < kept; k++) v[b * kept + k] = all.get(k);
        }
        return v;
    }

    @Test
    void gatherScatterRows() {
        int batch = 3, tokens = 157, dim = 65, kept = 41;
        Pair idx = ints(distinctRows(batch, tokens, kept), batch, kept);
        Pair src = randnInput(batch, tokens, dim), dst = output(batch, kept, dim);
        k().gatherRows(src.k(), idx.k(), dst.k());
        r().gatherRows(src.r(), idx.r(), dst.r());
        assertClose("gatherRows", dst);
        for (boolean acc : new boolean[] {false, true}) {
            Pair rows = randnInput(batch, kept, dim), into = randnInput(batch, tokens, dim); // untouched rows must survive
            k().scatterRows(rows.k(), idx.k(), into.k(), acc);
            r().scatterRows(rows.r(), idx.r(), into.r(), acc);
            assertClose("scatterRows", into);
        }
    }

    @Test
    void repeatRowsAndSumRepeats() {
        int batch = 3, copies = 5;
        Pair x = randnInput(batch, 7, 65), out = output(batch * copies, 7, 65);
        k().repeatRows(x.k(), copies, out.k());
        r().repeatRows(x.r(), copies, out.r());
        assertClose("repeatRows", out);
        Pair dout = randnInput(batch * copies, 7, 65), dx = output(batch, 7, 65);
        for (boolean acc : new boolean[] {false, true}) {
            k().sumRepeats(dout.k(), copies, dx.k(), acc);
            r().sumRepeats(dout.r(), copies, dx.r(), acc);
            assertClose("sumRepeats", dx);
        }
    }

    // ---- losses ----------------------------------------------------------------------------------

    @Test
    void maskedRegression() {
        int samples = 2, clones = 3, rows = samples * clones, tokens = 157, dim = 96;
        int[] mask = new int[rows * tokens];
        int masked = 0;
        for (int i = 0; i < mask.length; i++) if (rnd.nextDouble() < 0.6) { mask[i] = 1; masked++; }
        LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.0 / Math.sqrt(dim), masked);
        Pair pred = randnInput(rows, tokens, dim), target = randnInput(samples, tokens, dim), m = ints(mask, rows, tokens);
        Pair loss = output(1), dpred = output(rows, tokens, dim);
        k().maskedRegression(d, pred.k(), target.k(), m.k(), loss.k(), dpred.k(), 0.5);
        r().maskedRegression(d, pred.r(), target.r(), m.r(), loss.r(), dpred.r(), 0.5);
        assertClose("maskedRegression loss", loss);
        assertClose("maskedRegression dpred", dpred);
        Pair loss2 = output(1);
        k().maskedRegression(d, pred.k(), target.k(), m.k(), loss2.k(), null, 1.0);
        assertEquals(loss.k().item(), loss2.k().item(), 0.0, "the loss does not depend on whether dpred is wanted");
    }

    @Test
    void crossEntropy() {
        for (int[] s : new int[][] {{157, 7}, {9, 1000}, {1, 2}}) {
            int rows = s[0], classes = s[1];
            Pair logits = input(randn(rows * classes, 4.0), rows, classes), labels = ints(randomInts(rows, classes), rows);
            Pair loss = output(1), dl = output(rows, classes);
            k().crossEntropy(logits.k(), labels.k(), loss.k(), dl.k(), 2.0);
            r().crossEntropy(logits.r(), labels.r(), loss.r(), dl.r(), 2.0);
            assertClose("crossEntropy loss", loss);
            assertClose("crossEntropy dlogits", dl);
        }
        // confident rows: the label wins by 12, so the loss (~1e-5) must not cancel away
        double[] sure = {12, 0, 0.5, -1, 13, 0.25};
        Pair sl = input(sure, 2, 3), slab = ints(new int[] {0, 1}, 2), sloss = output(1), sd = output(2, 3);
        k().crossEntropy(sl.k(), slab.k(), sloss.k(), sd.k(), 1.0);
        r().crossEntropy(sl.r(), slab.r(), sloss.r(), sd.r(), 1.0);
        assertClose("crossEntropy loss", sloss);
        assertClose("crossEntropy dlogits", sd);
        Pair logits = randnInput(2, 3), bad = ints(new int[] {0, 3}, 2), loss = output(1);
        assertThrows(IllegalArgumentException.class, () -> {
            k().crossEntropy(logits.k(), bad.k(), loss.k(), null, 1.0);
            loss.k().item();
        });
    }

    // ---- randomness ------------------------------------------------------------------------------

    private static final long SEED = 0x1234_5678_9ABC_DEF0L;

    @Test
    void uniformIsPhiloxBitForBit() {
        for (long seed : new long[] {SEED, -3L}) { // both key words, including a negative seed
            for (int n : new int[] {1, 7, 1001}) {
                long offset = (1L << 32) + 5; // the counter's high word matters too
                Pair u = output(n);
                k().uniform(u.k(), seed, offset);
                r().uniform(u.r(), seed, offset);
                double[] kv = u.k().toDoubles();
                double[] expect = new double[n];
                for (int i = 0; i < n; i++) expect[i] = Philox.uniform(seed, offset, i);
                assertBitsEqual("uniform", kv, expect);
                assertBitsEqual("uniform vs reference", kv, u.r().toDoubles());
            }
        }
    }

    @Test
    void dropoutMasksAreIdentical() {
        int n = 1001;
        for (double p : new double[] {0.0, 0.1, 0.5}) {
            long offset = 77;
            double[] xv = randn(n);
            for (int i = 0; i < n; i++) if (xv[i] == 0) xv[i] = 1; // a zero input would hide the mask
            Pair x = input(xv, n), y = output(n);
            k().dropout(x.k(), y.k(), p, SEED, offset);
            r().dropout(x.r(), y.r(), p, SEED, offset);
            double[] ky = y.k().toDoubles();
            for (int i = 0; i < n; i++) {
                assertEquals(Philox.keep(SEED, offset, i, p), ky[i] != 0, "dropout mask at " + i + ", p " + p);
            }
            assertClose("dropout", y);
            Pair dy = randnInput(n), dx = randnInput(n);
            k().dropoutBackward(dy.k(), dx.k(), p, SEED, offset, true);
            r().dropoutBackward(dy.r(), dx.r(), p, SEED, offset, true);
            assertClose("dropoutBackward", dx);
            Pair dx2 = output(n);
            k().dropoutBackward(dy.k(), dx2.k(), p, SEED, offset, false);
            r().dropoutBackward(dy.r(), dx2.r(), p, SEED, offset, false);
            assertClose("dropoutBackward", dx2);
        }
    }

    @Test
    void normalFollowsPhilox() {
        for (int n : new int[] {1, 7, 1001}) {
            Pair z = output(n);
            k().normal(z.k(), 0.5, 2.0, SEED, 3);
            r().normal(z.r(), 0.5, 2.0, SEED, 3);
            assertClose("normal", z); // Box–Muller in float: only rounding differs
            double[] kz = z.k().toDoubles(), rz = z.r().toDoubles();
            for (int i = 0; i < n; i++) {
                assertTrue(Math.abs(kz[i] - rz[i]) <= 1e-5 * (1 + Math.abs(rz[i])), "normal element " + i + ": " + kz[i] + " vs " + rz[i]);
            }
        }
    }

    // ---- optimisation ----------------------------------------------------------------------------

    @Test
    void adamwAndEma() {
        int n = 1001;
        Pair p = randnInput(n), g = randnInput(n), m = input(randn(n, 0.1), n), v = randnInput(n);
        double[] vv = randn(n, 0.01);
        for (int i = 0; i < n; i++) vv[i] = (float) Math.abs(vv[i]);
        v = input(vv, n);
        Pair scale = input(new double[] {0.7}, 1);
        for (long step = 1; step <= 3; step++) {
            AdamWDesc d = new AdamWDesc(1e-3, 0.9, 0.98, 1e-6, 0.05, step);
            Pair s = step == 2 ? null : scale; // null: scale 1
            k().adamw(d, p.k(), g.k(), m.k(), v.k(), s == null ? null : s.k());
            r().adamw(d, p.r(), g.r(), m.r(), v.r(), s == null ? null : s.r());
        }
        assertClose("adamw param", p);
        assertClose("adamw m", m);
        assertClose("adamw v", v);
        for (double tau : new double[] {0.999, 0.9999, 0.5}) {
            Pair t = randnInput(n), s = randnInput(n);
            k().ema(t.k(), s.k(), tau);
            r().ema(t.r(), s.r(), tau);
            assertClose("ema", t);
        }
    }

    /** No atomics anywhere: running a reduction twice gives the same bits. */
    @Test
    void reductionsAreDeterministic() {
        int rows = 999, dim = 96;
        Pair x = randnInput(rows, dim), dy = randnInput(rows, dim);
        double[][] runs = new double[2][];
        for (int run = 0; run < 2; run++) {
            Pair s = output(1), col = output(dim), mean = output(rows), rstd = output(rows), y = output(rows, dim);
            Pair dg = input(new double[dim], dim), db = input(new double[dim], dim);
            Pair ids = ints(new int[rows], rows), dtable = input(new double[3 * dim], 3, dim); // every row on id 0
            k().sumSquares(x.k(), s.k(), false);
            k().reduceMiddle(1, rows, dim, 1.0, x.k(), col.k(), false);
            NormDesc d = new NormDesc(rows, dim, 1e-5);
            k().layerNorm(d, x.k(), null, null, y.k(), mean.k(), rstd.k());
            k().layerNormBackward(d, x.k(), null, mean.k(), rstd.k(), dy.k(), null, dg.k(), db.k(), false);
            k().embeddingBackward(ids.k(), dy.k(), dtable.k());
            double[] all = new double[1 + 4 * dim];
            System.arraycopy(s.k().toDoubles(), 0, all, 0, 1);
            System.arraycopy(col.k().toDoubles(), 0, all, 1, dim);
            System.arraycopy(dg.k().toDoubles(), 0, all, 1 + dim, dim);
            System.arraycopy(db.k().toDoubles(), 0, all, 1 + 2 * dim, dim);
            System.arraycopy(dtable.k().toDoubles(), 0, all, 1 + 3 * dim, dim);
            runs[run] = all;
        }
        assertBitsEqual("second run", runs[1], runs[0]);
    }

    // ---- device contract -------------------------------------------------------------------------

    @Test
    void memoryIsCountedAndFreed() {
        long before = dev.bytesInUse();
        try (var t = org.d2v.tensor.Tensor.empty(dev, DType.F32, 1000)) {
            assertEquals(before + 4000, dev.bytesInUse());
        }
        assertEquals(before, dev.bytesInUse());
        Pair views = randnInput(10, 20); // views at an offset reach the kernels with that offset
        org.d2v.tensor.Tensor src = views.k().view(40, org.d2v.tensor.Shape.of(20));
        org.d2v.tensor.Tensor dst = views.k().view(100, org.d2v.tensor.Shape.of(20));
        k().copy(src, dst);
        double[] all = views.k().toDoubles();
        for (int i = 0; i < 20; i++) assertEquals(all[40 + i], all[100 + i]);
        assertTrue(all.length == 200);
    }

    // ---- a whole training step -------------------------------------------------------------------

    /**
     * Linear → GELU → LayerNorm → Linear regressor with the masked regression loss, forward,
     * backward into accumulating gradients and one AdamW step, all from Ops calls: loss, every
     * gradient and the updated weights agree with the float64 reference to 1e-4.
     */
    @Test
    void trainingStepMatchesReference() {
        int batch = 2, tokens = 37, rows = batch * tokens, in = 48, hidden = 96, out = 32;
        Pair x = randnInput(rows, in), target = randnInput(batch, tokens, out);
        int[] maskV = new int[rows];
        int masked = 0;
        for (int i = 0; i < rows; i++) if (rnd.nextDouble() < 0.5) { maskV[i] = 1; masked++; }
        Pair mask = ints(maskV, batch, tokens);
        Pair w1 = input(randn(hidden * in, 1 / Math.sqrt(in)), hidden, in), b1 = input(randn(hidden, 0.1), hidden);
        double[] gv = randn(hidden, 0.1);
        for (int i = 0; i < hidden; i++) gv[i] = (float) (1 + gv[i]);
        Pair gamma = input(gv, hidden), beta = input(randn(hidden, 0.1), hidden);
        Pair w2 = input(randn(out * hidden, 1 / Math.sqrt(hidden)), out, hidden), b2 = input(randn(out, 0.1), out);
        Pair[] params = {w1, b1, gamma, beta, w2, b2};
        Pair[] grads = new Pair[params.length];
        for (int i = 0; i < params.length; i++) {
            int[] dims = params[i].k().shape().dims();
            grads[i] = input(new double[(int) params[i].k().numel()], dims); // zeroed once per step
        }
        for (boolean onKernel : new boolean[] {true, false}) {
            Ops o = onKernel ? k() : r();
            java.util.function.Function<Pair, org.d2v.tensor.Tensor> t = p -> onKernel ? p.k() : p.r();
            java.util.function.Function<int[], org.d2v.tensor.Tensor> tmp = dims -> {
                Pair p = output(dims);
                return onKernel ? p.k() : p.r();
            };
            org.d2v.tensor.Tensor pre = tmp.apply(new int[] {rows, hidden}), h = tmp.apply(new int[] {rows, hidden});
            o.matmul(MatmulDesc.of(rows, hidden, in).withTransB(true).withActivation(MatmulDesc.Activation.GELU),
                    t.apply(x), t.apply(w1), t.apply(b1), h, pre, false);
            NormDesc nd = new NormDesc(rows, hidden, 1e-5);
            org.d2v.tensor.Tensor z = tmp.apply(new int[] {rows, hidden}), mean = tmp.apply(new int[] {rows}),
                    rstd = tmp.apply(new int[] {rows});
            o.layerNorm(nd, h, t.apply(gamma), t.apply(beta), z, mean, rstd);
            org.d2v.tensor.Tensor pred = tmp.apply(new int[] {rows, out});
            o.matmul(MatmulDesc.of(rows, out, hidden).withTransB(true), z, t.apply(w2), t.apply(b2), pred, null, false);
            LossDesc ld = new LossDesc(batch, tokens, out, 1, 1.0 / Math.sqrt(out), masked * (double) out);
            org.d2v.tensor.Tensor loss = tmp.apply(new int[] {1}), dpred = tmp.apply(new int[] {rows, out});
            o.maskedRegression(ld, pred.reshape(batch, tokens, out), t.apply(target), t.apply(mask), loss,
                    dpred.reshape(batch, tokens, out), 1.0);
            // backward: gradients accumulate into their (zeroed) buffers
            o.matmul(MatmulDesc.of(out, hidden, rows).withTransA(true), dpred, z, null, t.apply(grads[4]), null, true);
            o.reduceMiddle(1, rows, out, 1.0, dpred, t.apply(grads[5]), true);
            org.d2v.tensor.Tensor dz = tmp.apply(new int[] {rows, hidden});
            o.matmul(MatmulDesc.of(rows, hidden, out), dpred, t.apply(w2), null, dz, null, false);
            org.d2v.tensor.Tensor dh = tmp.apply(new int[] {rows, hidden});
            o.layerNormBackward(nd, h, t.apply(gamma), mean, rstd, dz, dh, t.apply(grads[2]), t.apply(grads[3]), false);
            org.d2v.tensor.Tensor dpre = tmp.apply(new int[] {rows, hidden});
            o.geluBackward(pre, dh, dpre, false);
            o.matmul(MatmulDesc.of(hidden, in, rows).withTransA(true), dpre, t.apply(x), null, t.apply(grads[0]), null, true);
            o.reduceMiddle(1, rows, hidden, 1.0, dpre, t.apply(grads[1]), true);
            if (onKernel) lossK = loss.item(); else lossR = loss.item();
            org.d2v.tensor.Tensor norm = tmp.apply(new int[] {1});
            o.sumSquares(t.apply(grads[0]), norm, false);
            for (int i = 1; i < grads.length; i++) o.sumSquares(t.apply(grads[i]), norm, true);
            double clip = Math.min(1.0, 0.5 / Math.sqrt(norm.item()));
            org.d2v.tensor.Tensor scale = tmp.apply(new int[] {1});
            scale.copyFrom(new double[] {clip});
            for (int i = 0; i < params.length; i++) {
                int n = (int) params[i].k().numel();
                org.d2v.tensor.Tensor m = tmp.apply(new int[] {n}), v = tmp.apply(new int[] {n});
                o.fill(m, 0);
                o.fill(v, 0);
                o.adamw(new AdamWDesc(1e-2, 0.9, 0.98, 1e-6, 0.01, 1), t.apply(params[i]), t.apply(grads[i]).reshape(n), m, v, scale);
            }
        }
        noteError("trainingStep loss", Math.abs(lossK - lossR) / Math.abs(lossR));
        assertTrue(Math.abs(lossK - lossR) <= 1e-4 * Math.abs(lossR), "loss " + lossK + " vs reference " + lossR);
        String[] names = {"W1", "b1", "gamma", "beta", "W2", "b2"};
        for (int i = 0; i < params.length; i++) {
            assertClose("trainingStep grad " + names[i], grads[i], 1e-4);
            assertClose("trainingStep param " + names[i], params[i], 1e-4);
        }
    }

    private double lossK, lossR;

    /** The model of {@link #moduleTrainingStepsMatchReference}: MLP (GELU fused) → LayerNorm → Linear. */
    private static final class Regressor {
        final org.d2v.nn.MLP mlp;
        final org.d2v.nn.LayerNorm norm;
        final org.d2v.nn.Linear head;

        Regressor(org.d2v.nn.ParameterStore.Builder b, int in, int hidden, int out) {
            mlp = new org.d2v.nn.MLP(b.child("mlp"), in, hidden, hidden, 0.0);
            norm = new org.d2v.nn.LayerNorm(b.child("norm"), hidden, 1e-5, true);
            head = new org.d2v.nn.Linear(b.child("head"), hidden, out, true);
        }

        org.d2v.tensor.Tensor forward(org.d2v.tensor.Tensor x) { return head.forward(norm.forward(mlp.forward(x))); }
    }

    /**
     * The same model through nn modules, the tape, the flat parameter store and the optimiser
     * (global-norm clipping, AdamW) on both devices from the same weights: three steps give the
     * same losses, gradients and weights (≤ 1e-4).
     */
    @Test
    void moduleTrainingStepsMatchReference() {
        int batch = 3, tokens = 29, in = 40, hidden = 96, out = 24;
        double[] xv = randn(batch * tokens * in), tv = randn(batch * tokens * out);
        int[] maskV = new int[batch * tokens];
        int masked = 0;
        for (int i = 0; i < maskV.length; i++) if (rnd.nextDouble() < 0.6) { maskV[i] = 1; masked++; }
        LossDesc ld = new LossDesc(batch, tokens, out, 1, 1.0 / Math.sqrt(out), masked * (double) out);
        double[][] losses = new double[2][3];
        double[][] grads = new double[2][], values = new double[2][];
        java.util.Map<String, double[]> init = null;
        for (int side = 0; side < 2; side++) {
            org.d2v.backend.Device d = side == 0 ? dev : ref;
            DType dt = side == 0 ? DType.F32 : DType.F64;
            org.d2v.nn.ParameterStore.Builder b = org.d2v.nn.ParameterStore.builder();
            Regressor model = new Regressor(b, in, hidden, out);
            try (org.d2v.nn.ParameterStore store = b.build(d, dt, 5);
                 org.d2v.optim.Optimizer opt = new org.d2v.optim.Optimizer(store, new org.d2v.optim.AdamW.Config(0.9, 0.98, 1e-6, 0.01),
                         new org.d2v.optim.CosineSchedule(1e-2, 1, 10, 0), 0.5)) {
                if (init == null) init = store.stateDict(); else store.loadStateDict(init, "kernel-side weights");
                org.d2v.tensor.Tensor x = org.d2v.tensor.Tensor.of(d, dt, org.d2v.tensor.Shape.of(batch * tokens, in), xv);
                org.d2v.tensor.Tensor target = org.d2v.tensor.Tensor.of(d, dt, org.d2v.tensor.Shape.of(batch, tokens, out), tv);
                org.d2v.tensor.Tensor mask = org.d2v.tensor.Tensor.ofInts(d, org.d2v.tensor.Shape.of(batch, tokens), maskV);
                for (int step = 0; step < 3; step++) {
                    try (org.d2v.tensor.Scope sc = org.d2v.tensor.Scope.open(); org.d2v.autograd.Tape tape = org.d2v.autograd.Tape.record()) {
                        store.zeroGrads();
                        org.d2v.tensor.Tensor pred = org.d2v.autograd.F.reshape(model.forward(x), batch, tokens, out); // stays on the tape
                        org.d2v.tensor.Tensor loss = org.d2v.autograd.F.maskedRegression(ld, pred, target, mask);
                        tape.backward(loss);
                        losses[side][step] = loss.item();
                        if (step == 2) grads[side] = store.grads().toDoubles();
                        opt.step();
                    }
                }
                values[side] = store.values().toDoubles();
            }
        }
        for (int step = 0; step < 3; step++) {
            double e = Math.abs(losses[0][step] - losses[1][step]) / Math.abs(losses[1][step]);
            noteError("module step loss", e);
            assertTrue(e <= 1e-4, "step " + step + " loss " + losses[0][step] + " vs reference " + losses[1][step]);
        }
        assertTrue(java.util.Arrays.stream(grads[1]).anyMatch(g -> g != 0), "the backward pass reached the parameters");
        double eg = relError(grads[0], grads[1]), ev = relError(values[0], values[1]);
        noteError("module step grads", eg);
        noteError("module step weights", ev);
        assertTrue(eg <= 1e-4, "gradients after two updates: relative error " + eg);
        assertTrue(ev <= 1e-4, "weights after three updates: relative error " + ev);
        assertTrue(losses[1][2] < losses[1][0], "the reference loss falls: " + java.util.Arrays.toString(losses[1]));
    }

    // ---- work that stays on the device (no host synchronisation inside a step) ------------------

    @Test
    void clipFactorAndMeanChannelStd() {
        for (double[] c : new double[][] {{9.0, 1.0}, {0.25, 1.0}, {16.0, 0.0}, {0.0, 0.5}}) {
            Pair sq = input(new double[] {c[0]}, 1), norm = output(1), factor = output(1);
            k().clipFactor(sq.k(), c[1], norm.k(), factor.k());
            r().clipFactor(sq.r(), c[1], norm.r(), factor.r());
            assertClose("clipFactor norm", norm);
            assertClose("clipFactor factor", factor);
        }
        for (int channels : new int[] {1, 96, 1000}) {
            int n = 37;
            double[] mean = randn(channels), sq = new double[channels];
            for (int i = 0; i < channels; i++) {
                if (i % 3 == 2) { // a collapsed channel: variance exactly 0 (a mean whose square is exact in float)
                    mean[i] = (i % 7) / 8.0;
                    sq[i] = mean[i] * mean[i];
                } else {
                    sq[i] = mean[i] * mean[i] + 0.01 + Math.abs(randn(1)[0]); // spreads the guards care about (≥ 0.1)
                }
            }
            Pair mu = input(mean, channels), ms = input(sq, channels), out = output(1);
            k().meanChannelStd(n, mu.k(), ms.k(), out.k());
            r().meanChannelStd(n, mu.r(), ms.r(), out.r());
            assertClose("meanChannelStd", out, 1e-4); // a float difference of squares: rounding of mean² relative to the variance
        }
    }

    @Test
    void indexErrorsAreFlaggedOnTheDevice() {
        int vocab = 9, dim = 5;
        Pair table = randnInput(vocab, dim), ok = ints(new int[] {0, 8, 3}, 3), out = output(3, dim);
        Pair flag = output(1);
        k().embedding(ok.k(), table.k(), out.k());
        k().takeIndexErrors(flag.k());
        assertEquals(0.0, flag.k().item(), "good ids raise no flag");
        Pair bad = ints(new int[] {2, 9, -1}, 3), dtable = input(new double[vocab * dim], vocab, dim);
        k().embedding(bad.k(), table.k(), out.k());
        k().embeddingBackward(bad.k(), randnInput(3, dim).k(), dtable.k());
        k().takeIndexErrors(flag.k());
        assertEquals(1.0, flag.k().item(), "a bad id raises the flag");
        double[] t = table.k().toDoubles(), o = out.k().toDoubles(); // taken: this download does not throw
        for (int j = 0; j < dim; j++) {
            assertEquals(t[(vocab - 1) * dim + j], o[dim + j], 0.0, "id 9 reads the last row");
            assertEquals(t[j], o[2 * dim + j], 0.0, "id -1 reads row 0");
        }
        k().takeIndexErrors(flag.k());
        assertEquals(0.0, flag.k().item(), "taking the flag clears it");
        Pair logits = randnInput(2, 3), labels = ints(new int[] {1, 3}, 2), loss = output(1);
        k().crossEntropy(logits.k(), labels.k(), loss.k(), null, 1.0);
        var e = assertThrows(IllegalArgumentException.class, () -> loss.k().item(), "an untaken flag makes the next download throw");
        assertTrue(e.getMessage().contains("outside its range"), e.getMessage());
        assertTrue(Double.isFinite(loss.k().item()), "reported once, then cleared");
    }

    /** The device sort behind embeddingBackward: sizes around powers of two, ids repeated and all alike. */
    @Test
    void embeddingBackwardSortsOnTheDevice() {
        for (int n : new int[] {1, 2, 3, 255, 256, 257, 1000}) {
            int vocab = n == 1000 ? 3 : 40, dim = 7;
            Pair ids = ints(randomInts(n, vocab), n), dout = randnInput(n, dim), dtable = randnInput(vocab, dim);
            k().embeddingBackward(ids.k(), dout.k(), dtable.k());
            r().embeddingBackward(ids.r(), dout.r(), dtable.r());
            assertClose("embeddingBackward n=" + n, dtable);
        }
    }
}
