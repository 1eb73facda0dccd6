package org.d2v.backend.reference;

import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * The op set in plain Java, written for reading: the oracle every kernel is checked against.
 * Sums accumulate in double; F32 outputs are rounded to float on store.
 */
final class ReferenceOps implements Ops {

    // ---- access helpers ------------------------------------------------------------------------

    static double round(DType t, double v) { return t == DType.F32 ? (double) (float) v : v; }

    private static double[] data(Tensor t) { return t == null ? null : ReferenceDevice.buf(t.buffer()).data; }

    private static int base(Tensor t) { return (int) t.offset(); }

    private static void store(Tensor t, int i, double v, boolean accumulate) {
        double[] d = data(t);
        int at = base(t) + i;
        d[at] = round(t.dtype(), accumulate ? d[at] + v : v);
    }

    private static double at(Tensor t, int i) { return data(t)[base(t) + i]; }

    private static void requireSize(Tensor t, long n, String what) {
        if (t.numel() != n) throw new IllegalArgumentException(what + ": expected " + n + " elements, got " + t.shape());
    }

    // ---- memory and elementwise ----------------------------------------------------------------

    @Override
    public void fill(Tensor x, double value) {
        for (int i = 0; i < x.numel(); i++) store(x, i, value, false);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        requireSize(dst, src.numel(), "copy");
        for (int i = 0; i < src.numel(); i++) store(dst, i, at(src, i), false);
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        requireSize(y, x.numel(), "axpby");
        for (int i = 0; i < x.numel(); i++) {
            double old = beta == 0 ? 0 : beta * at(y, i);
            store(y, i, alpha * at(x, i) + old, false);
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        requireSize(b, a.numel(), "add");
        requireSize(out, a.numel(), "add");
        for (int i = 0; i < a.numel(); i++) store(out, i, at(a, i) + at(b, i), false);
    }

    // ---- GEMM ----------------------------------------------------------------------------------

    @Override
    public void matmul(MatmulDesc d, Tensor a, Tensor b, Tensor bias, Tensor c, Tensor preact, boolean accumulate) {
        if (accumulate && d.activation() != MatmulDesc.Activation.NONE) {
            throw new IllegalArgumentException("matmul: accumulate with an activation is not defined");
        }
        int m = d.m(), n = d.n(), k = d.k();
        requireSize(a, (long) d.batch() * m * k, "matmul A");
        requireSize(b, (long) (d.broadcastB() ? 1 : d.batch()) * k * n, "matmul B");
        requireSize(c, (long) d.batch() * m * n, "matmul C");
        for (int p = 0; p < d.batch(); p++) {
            int aBase = p * m * k, bBase = d.broadcastB() ? 0 : p * k * n, cBase = p * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = bias == null ? 0 : at(bias, j);
                    for (int q = 0; q < k; q++) {
                        double av = at(a, aBase + (d.transA() ? q * m + i : i * k + q));
                        double bv = at(b, bBase + (d.transB() ? j * k + q : q * n + j));
                        s += av * bv;
                    }
                    int ci = cBase + i * n + j;
                    if (d.activation() == MatmulDesc.Activation.GELU) {
                        if (preact != null) store(preact, ci, s, false);
                        s = gelu(s);
                    }
                    store(c, ci, s, accumulate);
                }
            }
        }
    }

    static double gelu(double x) { return 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))); }

    // ---- still to write (issue 2): each below must become a plain implementation ----------------

    private static UnsupportedOperationException todo(String op) {
        return new UnsupportedOperationException("reference op not written yet: " + op);
    }

    @Override public void mul(Tensor a, Tensor b, Tensor out, boolean accumulate) { throw todo("mul"); }
    @Override public void addBroadcast(Tensor x, Tensor v, Tensor out) { throw todo("addBroadcast"); }
    @Override public void reduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) { throw todo("reduceMiddle"); }
    @Override public void broadcastMiddle(int a, int b, int c, double alpha, Tensor dout, Tensor dx, boolean accumulate) { throw todo("broadcastMiddle"); }
    @Override public void sumSquares(Tensor x, Tensor out, boolean accumulate) { throw todo("sumSquares"); }
    @Override public void sum(Tensor x, Tensor out) { throw todo("sum"); }
    @Override public void gelu(Tensor x, Tensor y) { throw todo("gelu"); }
    @Override public void geluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) { throw todo("geluBackward"); }
    @Override public void layerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd) { throw todo("layerNorm"); }
    @Override public void layerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) { throw todo("layerNormBackward"); }
    @Override public void instanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd) { throw todo("instanceNorm"); }
    @Override public void instanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, boolean accumulate) { throw todo("instanceNormBackward"); }
    @Override public void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor lse) { throw todo("attention"); }
    @Override public void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta, Tensor dqkv, Tensor dAlibiScale, boolean accumulate) { throw todo("attentionBackward"); }
    @Override public void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) { throw todo("conv"); }
    @Override public void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) { throw todo("convBackwardInput"); }
    @Override public void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) { throw todo("convBackwardWeight"); }
    @Override public void embedding(Tensor ids, Tensor table, Tensor out) { throw todo("embedding"); }
    @Override public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) { throw todo("embeddingBackward"); }
    @Override public void gatherRows(Tensor src, Tensor idx, Tensor dst) { throw todo("gatherRows"); }
    @Override public void scatterRows(Tensor src, Tensor idx, Tensor dst, boolean accumulate) { throw todo("scatterRows"); }
    @Override public void repeatRows(Tensor x, int copies, Tensor out) { throw todo("repeatRows"); }
    @Override public void sumRepeats(Tensor dout, int copies, Tensor dx, boolean accumulate) { throw todo("sumRepeats"); }
    @Override public void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred, double gradScale) { throw todo("maskedRegression"); }
    @Override public void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale) { throw todo("crossEntropy"); }
    @Override public void dropout(Tensor x, Tensor y, double p, long seed, long offset) { throw todo("dropout"); }
    @Override public void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate) { throw todo("dropoutBackward"); }
    @Override public void normal(Tensor out, double mean, double std, long seed, long offset) { throw todo("normal"); }
    @Override public void uniform(Tensor out, long seed, long offset) { throw todo("uniform"); }
    @Override public void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v) { throw todo("adamw"); }
    @Override public void ema(Tensor teacher, Tensor student, double tau) { throw todo("ema"); }
}
