package org.d2v.backend.reference;

import java.util.stream.IntStream;
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
        if (bias != null) requireSize(bias, n, "matmul bias");
        if (preact != null) requireSize(preact, (long) d.batch() * m * n, "matmul preact");
        // One task per output row of every batch: rows are independent.
        IntStream.range(0, d.batch() * m).parallel().forEach(row -> {
            int p = row / m, i = row % m;
            int aBase = p * m * k, bBase = d.broadcastB() ? 0 : p * k * n, cBase = p * m * n;
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
        });
    }

    static double gelu(double x) { return 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))); }

    // ---- elementwise and reductions ------------------------------------------------------------

    @Override
    public void mul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        requireSize(b, a.numel(), "mul");
        requireSize(out, a.numel(), "mul");
        for (int i = 0; i < a.numel(); i++) store(out, i, at(a, i) * at(b, i), accumulate);
    }

    @Override
    public void addBroadcast(Tensor x, Tensor v, Tensor out) {
        int n = (int) v.numel();
        if (n == 0 || x.numel() % n != 0) {
            throw new IllegalArgumentException("addBroadcast: x " + x.shape() + " is not a whole number of rows of " + v.shape());
        }
        requireSize(out, x.numel(), "addBroadcast out");
        for (int i = 0; i < x.numel(); i++) store(out, i, at(x, i) + at(v, i % n), false);
    }

    @Override
    public void reduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) {
        requireSize(x, (long) a * b * c, "reduceMiddle x");
        requireSize(out, (long) a * c, "reduceMiddle out");
        for (int i = 0; i < a; i++) {
            for (int k = 0; k < c; k++) {
                double s = 0;
                for (int j = 0; j < b; j++) s += at(x, (i * b + j) * c + k);
                store(out, i * c + k, alpha * s, accumulate);
            }
        }
    }

    @Override
    public void broadcastMiddle(int a, int b, int c, double alpha, Tensor dout, Tensor dx, boolean accumulate) {
        requireSize(dout, (long) a * c, "broadcastMiddle dout");
        requireSize(dx, (long) a * b * c, "broadcastMiddle dx");
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                for (int k = 0; k < c; k++) store(dx, (i * b + j) * c + k, alpha * at(dout, i * c + k), accumulate);
            }
        }
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        requireSize(out, 1, "sumSquares out");
        double s = 0;
        for (int i = 0; i < x.numel(); i++) s += at(x, i) * at(x, i);
        store(out, 0, s, accumulate);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        requireSize(out, 1, "sum out");
        double s = 0;
        for (int i = 0; i < x.numel(); i++) s += at(x, i);
        store(out, 0, s, false);
    }

    // ---- activations ---------------------------------------------------------------------------

    @Override
    public void gelu(Tensor x, Tensor y) {
        requireSize(y, x.numel(), "gelu");
        for (int i = 0; i < x.numel(); i++) store(y, i, gelu(at(x, i)), false);
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        requireSize(dy, x.numel(), "geluBackward dy");
        requireSize(dx, x.numel(), "geluBackward dx");
        for (int i = 0; i < x.numel(); i++) store(dx, i, at(dy, i) * geluDerivative(at(x, i)), accumulate);
    }

    /** d/dx [x·Φ(x)] = Φ(x) + x·φ(x). */
    static double geluDerivative(double x) {
        double cdf = 0.5 * (1 + Erf.erf(x / Math.sqrt(2)));
        double pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
        return cdf + x * pdf;
    }

    // ---- normalisation -------------------------------------------------------------------------

    @Override
    public void layerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd) {
        int rows = d.rows(), dim = d.dim();
        requireSize(x, (long) rows * dim, "layerNorm x");
        requireSize(y, (long) rows * dim, "layerNorm y");
        requireSize(mean, rows, "layerNorm mean");
        requireSize(rstd, rows, "layerNorm rstd");
        if (gamma != null) requireSize(gamma, dim, "layerNorm gamma");
        if (beta != null) requireSize(beta, dim, "layerNorm beta");
        IntStream.range(0, rows).parallel().forEach(r -> {
            double mu = 0;
            for (int j = 0; j < dim; j++) mu += at(x, r * dim + j);
            mu /= dim;
            double var = 0;
            for (int j = 0; j < dim; j++) {
                double c = at(x, r * dim + j) - mu;
                var += c * c;
            }
            var /= dim; // biased, as PyTorch
            double rs = 1 / Math.sqrt(var + d.eps());
            for (int j = 0; j < dim; j++) {
                double v = (at(x, r * dim + j) - mu) * rs;
                if (gamma != null) v *= at(gamma, j);
                if (beta != null) v += at(beta, j);
                store(y, r * dim + j, v, false);
            }
            store(mean, r, mu, false);
            store(rstd, r, rs, false);
        });
    }

    @Override
    public void layerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        int rows = d.rows(), dim = d.dim();
        requireSize(x, (long) rows * dim, "layerNormBackward x");
        requireSize(dy, (long) rows * dim, "layerNormBackward dy");
        requireSize(mean, rows, "layerNormBackward mean");
        requireSize(rstd, rows, "layerNormBackward rstd");
        if (dx != null) requireSize(dx, (long) rows * dim, "layerNormBackward dx");
        if (dgamma != null) requireSize(dgamma, dim, "layerNormBackward dgamma");
        if (dbeta != null) requireSize(dbeta, dim, "layerNormBackward dbeta");
        if (dx != null) {
            // With xhat = (x − mean)·rstd and g = dy·gamma: dx = rstd·(g − mean(g) − xhat·mean(g·xhat)).
            IntStream.range(0, rows).parallel().forEach(r -> {
                double mu = at(mean, r), rs = at(rstd, r);
                double meanG = 0, meanGX = 0;
                for (int j = 0; j < dim; j++) {
                    double g = at(dy, r * dim + j) * (gamma == null ? 1 : at(gamma, j));
                    meanG += g;
                    meanGX += g * (at(x, r * dim + j) - mu) * rs;
                }
                meanG /= dim;
                meanGX /= dim;
                for (int j = 0; j < dim; j++) {
                    double g = at(dy, r * dim + j) * (gamma == null ? 1 : at(gamma, j));
                    double xhat = (at(x, r * dim + j) - mu) * rs;
                    store(dx, r * dim + j, rs * (g - meanG - xhat * meanGX), accumulate);
                }
            });
        }
        // Parameter gradients sum over rows, so they run column by column.
        IntStream.range(0, dim).parallel().forEach(j -> {
            double sg = 0, sb = 0;
            for (int r = 0; r < rows; r++) {
                double g = at(dy, r * dim + j);
                sg += g * (at(x, r * dim + j) - at(mean, r)) * at(rstd, r);
                sb += g;
            }
            if (dgamma != null) store(dgamma, j, sg, true);
            if (dbeta != null) store(dbeta, j, sb, true);
        });
    }

    @Override
    public void instanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd) {
        requireSize(x, (long) batch * time * channels, "instanceNorm x");
        requireSize(y, (long) batch * time * channels, "instanceNorm y");
        requireSize(mean, (long) batch * channels, "instanceNorm mean");
        requireSize(rstd, (long) batch * channels, "instanceNorm rstd");
        IntStream.range(0, batch * channels).parallel().forEach(bc -> {
            int b = bc / channels, c = bc % channels;
            double mu = 0;
            for (int t = 0; t < time; t++) mu += at(x, (b * time + t) * channels + c);
            mu /= time;
            double var = 0;
            for (int t = 0; t < time; t++) {
                double dev = at(x, (b * time + t) * channels + c) - mu;
                var += dev * dev;
            }
            var /= time;
            double rs = 1 / Math.sqrt(var + eps);
            for (int t = 0; t < time; t++) {
                int i = (b * time + t) * channels + c;
                store(y, i, (at(x, i) - mu) * rs, false);
            }
            store(mean, bc, mu, false);
            store(rstd, bc, rs, false);
        });
    }

    @Override
    public void instanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd,
                                     Tensor dy, Tensor dx, boolean accumulate) {
        requireSize(x, (long) batch * time * channels, "instanceNormBackward x");
        requireSize(dy, (long) batch * time * channels, "instanceNormBackward dy");
        requireSize(dx, (long) batch * time * channels, "instanceNormBackward dx");
        requireSize(mean, (long) batch * channels, "instanceNormBackward mean");
        requireSize(rstd, (long) batch * channels, "instanceNormBackward rstd");
        // The non-affine LayerNorm backward, taken over time instead of over channels.
        IntStream.range(0, batch * channels).parallel().forEach(bc -> {
            int b = bc / channels, c = bc % channels;
            double mu = at(mean, bc), rs = at(rstd, bc);
            double meanG = 0, meanGX = 0;
            for (int t = 0; t < time; t++) {
                int i = (b * time + t) * channels + c;
                meanG += at(dy, i);
                meanGX += at(dy, i) * (at(x, i) - mu) * rs;
            }
            meanG /= time;
            meanGX /= time;
            for (int t = 0; t < time; t++) {
                int i = (b * time + t) * channels + c;
                double xhat = (at(x, i) - mu) * rs;
                store(dx, i, rs * (at(dy, i) - meanG - xhat * meanGX), accumulate);
            }
        });
    }

    // ---- tokens --------------------------------------------------------------------------------

    /** An integer read from an I32 tensor, checked to lie in [0, bound). */
    private static int index(Tensor t, int i, int bound, String what) {
        double v = at(t, i);
        if (v < 0 || v >= bound || v != Math.rint(v)) {
            throw new IllegalArgumentException(what + ": index " + (long) v + " at position " + i + " is outside [0, " + bound + ")");
        }
        return (int) v;
    }

    @Override
    public void embedding(Tensor ids, Tensor table, Tensor out) {
        int n = (int) ids.numel();
        if (table.shape().rank() != 2) throw new IllegalArgumentException("embedding: table must be [vocab, dim], got " + table.shape());
        int vocab = table.dim(0), dim = table.dim(1);
        requireSize(out, (long) n * dim, "embedding out");
        for (int i = 0; i < n; i++) {
            double v = at(ids, i);
            if (v < 0 || v >= vocab || v != Math.rint(v)) {
                throw new IllegalArgumentException("embedding: id " + (long) v + " at position " + i
                        + " is outside the vocabulary of size " + vocab);
            }
        }
        IntStream.range(0, n).parallel().forEach(i -> {
            int id = (int) at(ids, i);
            for (int j = 0; j < dim; j++) store(out, i * dim + j, at(table, id * dim + j), false);
        });
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        int n = (int) ids.numel();
        if (dtable.shape().rank() != 2) throw new IllegalArgumentException("embeddingBackward: dtable must be [vocab, dim], got " + dtable.shape());
        int vocab = dtable.dim(0), dim = dtable.dim(1);
        requireSize(dout, (long) n * dim, "embeddingBackward dout");
        // Sequential: repeated ids add into the same row.
        for (int i = 0; i < n; i++) {
            int id = index(ids, i, vocab, "embeddingBackward id (vocabulary size " + vocab + ")");
            for (int j = 0; j < dim; j++) store(dtable, id * dim + j, at(dout, i * dim + j), true);
        }
    }

    /** Sizes of a row gather/scatter: [batch, tokens, dim] rows against idx [batch, kept]. */
    private record RowMap(int batch, int tokens, int kept, int dim) {
        static RowMap of(String op, Tensor full, Tensor idx, Tensor compact) {
            if (idx.shape().rank() != 2) throw new IllegalArgumentException(op + ": idx must be [batch, kept], got " + idx.shape());
            int batch = idx.dim(0), kept = idx.dim(1);
            if (batch * kept == 0 || compact.numel() % ((long) batch * kept) != 0) {
                throw new IllegalArgumentException(op + ": " + compact.shape() + " is not [batch, kept, dim] for idx " + idx.shape());
            }
            int dim = (int) (compact.numel() / ((long) batch * kept));
            if (full.numel() % ((long) batch * dim) != 0) {
                throw new IllegalArgumentException(op + ": " + full.shape() + " is not [batch, tokens, " + dim + "]");
            }
            return new RowMap(batch, (int) (full.numel() / ((long) batch * dim)), kept, dim);
        }
    }

    @Override
    public void gatherRows(Tensor src, Tensor idx, Tensor dst) {
        RowMap s = RowMap.of("gatherRows", src, idx, dst);
        for (int b = 0; b < s.batch; b++) {
            for (int k = 0; k < s.kept; k++) {
                int t = index(idx, b * s.kept + k, s.tokens, "gatherRows");
                for (int j = 0; j < s.dim; j++) {
                    store(dst, (b * s.kept + k) * s.dim + j, at(src, (b * s.tokens + t) * s.dim + j), false);
                }
            }
        }
    }

    @Override
    public void scatterRows(Tensor src, Tensor idx, Tensor dst, boolean accumulate) {
        RowMap s = RowMap.of("scatterRows", dst, idx, src);
        for (int b = 0; b < s.batch; b++) {
            for (int k = 0; k < s.kept; k++) {
                int t = index(idx, b * s.kept + k, s.tokens, "scatterRows");
                for (int j = 0; j < s.dim; j++) {
                    store(dst, (b * s.tokens + t) * s.dim + j, at(src, (b * s.kept + k) * s.dim + j), accumulate);
                }
            }
        }
    }

    @Override
    public void repeatRows(Tensor x, int copies, Tensor out) {
        if (copies < 1) throw new IllegalArgumentException("repeatRows: copies must be >= 1, got " + copies);
        requireSize(out, x.numel() * copies, "repeatRows out");
        int batch = x.dim(0), n = (int) (x.numel() / Math.max(1, batch));
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < copies; c++) {
                for (int j = 0; j < n; j++) store(out, (b * copies + c) * n + j, at(x, b * n + j), false);
            }
        }
    }

    @Override
    public void sumRepeats(Tensor dout, int copies, Tensor dx, boolean accumulate) {
        if (copies < 1) throw new IllegalArgumentException("sumRepeats: copies must be >= 1, got " + copies);
        requireSize(dout, dx.numel() * copies, "sumRepeats dout");
        int batch = dx.dim(0), n = (int) (dx.numel() / Math.max(1, batch));
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int c = 0; c < copies; c++) s += at(dout, (b * copies + c) * n + j);
                store(dx, b * n + j, s, accumulate);
            }
        }
    }

    // ---- still to write: each below must become a plain implementation -----------------------

    private static UnsupportedOperationException todo(String op) {
        return new UnsupportedOperationException("reference op not written yet: " + op);
    }

    @Override public void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor lse) { throw todo("attention"); }
    @Override public void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta, Tensor dqkv, Tensor dAlibiScale, boolean accumulate) { throw todo("attentionBackward"); }
    @Override public void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) { throw todo("conv"); }
    @Override public void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) { throw todo("convBackwardInput"); }
    @Override public void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) { throw todo("convBackwardWeight"); }
    @Override public void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred, double gradScale) { throw todo("maskedRegression"); }
    @Override public void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale) { throw todo("crossEntropy"); }
    @Override public void dropout(Tensor x, Tensor y, double p, long seed, long offset) { throw todo("dropout"); }
    @Override public void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate) { throw todo("dropoutBackward"); }
    @Override public void normal(Tensor out, double mean, double std, long seed, long offset) { throw todo("normal"); }
    @Override public void uniform(Tensor out, long seed, long offset) { throw todo("uniform"); }
    @Override public void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v) { throw todo("adamw"); }
    @Override public void ema(Tensor teacher, Tensor student, double tau) { throw todo("ema"); }
}
