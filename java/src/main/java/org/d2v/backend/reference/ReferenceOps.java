package org.d2v.backend.reference;

import java.util.stream.IntStream;
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
import org.d2v.tensor.Tensor;

/**
 * The op set in plain Java, written for reading: the oracle every kernel is checked against.
 * Sums accumulate in double; F32 outputs are rounded to float and BF16 outputs to bfloat16 on
 * store (once, to nearest even: {@link Bf16#round(double)}), so a bf16 model here rounds at exactly
 * the storage points where the kernels do, with the math in between in double. Work is split across
 * threads only where tasks write disjoint outputs (matmul rows, attention (batch, head) pairs,
 * convolution rows or channels), so results do not depend on the thread count.
 */
final class ReferenceOps implements Ops {

    // ---- access helpers ------------------------------------------------------------------------

    static double round(DType t, double v) {
        return switch (t) {
            case F32 -> (double) (float) v;
            case BF16 -> Bf16.round(v);
            default -> v;
        };
    }

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
    public void cast(Tensor src, Tensor dst, boolean accumulate) {
        requireSize(dst, src.numel(), "cast");
        for (int i = 0; i < src.numel(); i++) store(dst, i, at(src, i), accumulate);
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
        double[] aData = data(a), bData = data(b);
        // One task per output row of every batch: rows are independent.
        IntStream.range(0, d.batch() * m).parallel().forEach(row -> {
            int p = row / m, i = row % m;
            int aBase = base(a) + p * m * k, bBase = base(b) + (d.broadcastB() ? 0 : p * k * n), cBase = p * m * n;
            // element (i, q) of op(A) sits at aRow + q·aStep
            int aRow = aBase + (d.transA() ? i : i * k), aStep = d.transA() ? m : 1;
            double[] acc = new double[n];
            if (bias != null) for (int j = 0; j < n; j++) acc[j] = at(bias, j);
            // Loop order follows B's layout so that the inner loop walks B contiguously.
            if (d.transB()) {
                for (int j = 0; j < n; j++) {
                    for (int q = 0; q < k; q++) acc[j] += aData[aRow + q * aStep] * bData[bBase + j * k + q];
                }
            } else {
                for (int q = 0; q < k; q++) {
                    double av = aData[aRow + q * aStep];
                    for (int j = 0; j < n; j++) acc[j] += av * bData[bBase + q * n + j];
                }
            }
            for (int j = 0; j < n; j++) {
                double s = acc[j];
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

    @Override
    public void meanChannelStd(int n, Tensor mean, Tensor meanSquare, Tensor out) {
        int channels = (int) mean.numel();
        requireSize(meanSquare, channels, "meanChannelStd meanSquare");
        requireSize(out, 1, "meanChannelStd out");
        if (channels < 1) throw new IllegalArgumentException("meanChannelStd: no channels");
        double s = 0;
        for (int c = 0; c < channels; c++) {
            double mu = at(mean, c);
            double var = Math.max(0, at(meanSquare, c) - mu * mu) * n / Math.max(1, n - 1);
            s += Math.sqrt(var + 1e-6);
        }
        store(out, 0, s / channels, false);
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

    /** Bad ids and labels throw where they are met (above), so there is never a flag to hand over. */
    @Override
    public void takeIndexErrors(Tensor dst) {
        requireSize(dst, 1, "takeIndexErrors dst");
        store(dst, 0, 0, false);
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

    // ---- attention -----------------------------------------------------------------------------

    /** Where q, k and v of (b, token, h) start in qkv [B, T, 3, H, Dh]. */
    private static int qkvAt(AttentionDesc d, int b, int token, int which, int h) {
        return (((b * d.tokens() + token) * 3 + which) * d.heads() + h) * d.headDim();
    }

    /** Where (b, token, h) starts in out/dout [B, T, H, Dh]. */
    private static int outAt(AttentionDesc d, int b, int token, int h) {
        return ((b * d.tokens() + token) * d.heads() + h) * d.headDim();
    }

    private static void checkAttention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale,
                                       Tensor positions, Tensor keyPadding, Tensor out, Tensor lse) {
        long bt = (long) d.batch() * d.tokens();
        requireSize(qkv, bt * 3 * d.dim(), "attention qkv [B,T,3,H,Dh]");
        requireSize(out, bt * d.dim(), "attention out [B,T,H,Dh]");
        requireSize(lse, bt * d.heads(), "attention lse [B,H,T]");
        if (d.alibi()) {
            if (alibiSlopes == null || alibiScale == null || positions == null) {
                throw new IllegalArgumentException("attention with ALiBi needs slopes, scale and positions");
            }
            requireSize(alibiSlopes, d.heads(), "attention alibiSlopes");
            requireSize(alibiScale, d.heads(), "attention alibiScale");
            requireSize(positions, bt, "attention positions [B,T]");
        }
        if (d.keyPadding()) {
            if (keyPadding == null) throw new IllegalArgumentException("attention with key padding needs keyPadding");
            requireSize(keyPadding, bt, "attention keyPadding [B,T]");
        }
    }

    /**
     * The pre-softmax logits of one (b, h) as a [T, T] matrix: scale·q·k, plus the ALiBi bias,
     * with −∞ at padded keys.
     */
    private static double[][] logits(AttentionDesc d, int b, int h, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale,
                                     Tensor positions, Tensor keyPadding) {
        int n = d.tokens(), dh = d.headDim();
        double[][] s = new double[n][n];
        double slope = d.alibi() ? at(alibiSlopes, h) * Math.max(at(alibiScale, h), 0) : 0;
        for (int i = 0; i < n; i++) {
            int qi = qkvAt(d, b, i, 0, h);
            for (int j = 0; j < n; j++) {
                if (d.keyPadding() && at(keyPadding, b * n + j) != 0) {
                    s[i][j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                int kj = qkvAt(d, b, j, 1, h);
                double dot = 0;
                for (int c = 0; c < dh; c++) dot += at(qkv, qi + c) * at(qkv, kj + c);
                s[i][j] = d.scale() * dot;
                if (d.alibi()) s[i][j] -= slope * Math.abs(at(positions, b * n + i) - at(positions, b * n + j));
            }
        }
        return s;
    }

    /** Dropout's factor for probability (b, h, i, j): keep/(1 − p), or 1 without dropout. */
    private static double dropFactor(AttentionDesc d, int b, int h, int i, int j) {
        if (d.dropout() == 0) return 1;
        long e = (((long) b * d.heads() + h) * d.tokens() + i) * d.tokens() + j;
        return Philox.keep(d.seed(), d.offset(), e, d.dropout()) ? 1 / (1 - d.dropout()) : 0;
    }

    @Override
    public void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                          Tensor keyPadding, Tensor out, Tensor lse) {
        checkAttention(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse);
        int n = d.tokens(), dh = d.headDim();
        IntStream.range(0, d.batch() * d.heads()).parallel().forEach(bh -> {
            int b = bh / d.heads(), h = bh % d.heads();
            double[][] s = logits(d, b, h, qkv, alibiSlopes, alibiScale, positions, keyPadding);
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) max = Math.max(max, s[i][j]);
                double[] o = new double[dh];
                double rowLse = Double.NEGATIVE_INFINITY;
                if (max != Double.NEGATIVE_INFINITY) { // a row with every key padded attends to nothing: out 0
                    double z = 0;
                    for (int j = 0; j < n; j++) z += Math.exp(s[i][j] - max);
                    rowLse = max + Math.log(z);
                    for (int j = 0; j < n; j++) {
                        double p = Math.exp(s[i][j] - rowLse) * dropFactor(d, b, h, i, j);
                        if (p == 0) continue;
                        int vj = qkvAt(d, b, j, 2, h);
                        for (int c = 0; c < dh; c++) o[c] += p * at(qkv, vj + c);
                    }
                }
                for (int c = 0; c < dh; c++) store(out, outAt(d, b, i, h) + c, o[c], false);
                store(lse, bh * n + i, rowLse, false);
            }
        });
    }

    @Override
    public void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                                  Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta,
                                  Tensor dqkv, Tensor dAlibiScale, boolean accumulate) {
        checkAttention(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse);
        long bt = (long) d.batch() * d.tokens();
        requireSize(dout, bt * d.dim(), "attentionBackward dout");
        requireSize(delta, bt * d.heads(), "attentionBackward delta [B,H,T]");
        requireSize(dqkv, bt * 3 * d.dim(), "attentionBackward dqkv");
        if (d.alibi()) {
            if (dAlibiScale == null) throw new IllegalArgumentException("attentionBackward with ALiBi needs dAlibiScale");
            requireSize(dAlibiScale, d.heads(), "attentionBackward dAlibiScale");
        }
        int n = d.tokens(), dh = d.headDim();
        // Each (b, h) owns its slices of dqkv; the ALiBi scale gradient is summed over b afterwards.
        double[] dScalePart = new double[d.batch() * d.heads()];
        IntStream.range(0, d.batch() * d.heads()).parallel().forEach(bh -> {
            int b = bh / d.heads(), h = bh % d.heads();
            double[][] s = logits(d, b, h, qkv, alibiSlopes, alibiScale, positions, keyPadding);
            double[][] dq = new double[n][dh], dk = new double[n][dh], dv = new double[n][dh];
            double slope = d.alibi() ? at(alibiSlopes, h) : 0;
            boolean scaleLive = d.alibi() && at(alibiScale, h) >= 0; // max(scale, 0) passes gradient only here
            double dScale = 0;
            for (int i = 0; i < n; i++) {
                int oi = outAt(d, b, i, h);
                // delta_i = Σ_j P_ij·dP_ij = dout_i · out_i (dropout included), the softmax backward's row term.
                double rowDelta = 0;
                for (int c = 0; c < dh; c++) rowDelta += at(dout, oi + c) * at(out, oi + c);
                store(delta, bh * n + i, rowDelta, false);
                double rowLse = at(lse, bh * n + i);
                if (rowLse == Double.NEGATIVE_INFINITY) continue;
                int qi = qkvAt(d, b, i, 0, h);
                for (int j = 0; j < n; j++) {
                    double p = Math.exp(s[i][j] - rowLse);
                    if (p == 0) continue;
                    double keep = dropFactor(d, b, h, i, j);
                    int kj = qkvAt(d, b, j, 1, h), vj = qkvAt(d, b, j, 2, h);
                    double dProb = 0; // ∂loss/∂P_ij = keep·(dout_i · v_j)
                    for (int c = 0; c < dh; c++) {
                        dv[j][c] += p * keep * at(dout, oi + c);
                        dProb += at(dout, oi + c) * at(qkv, vj + c);
                    }
                    double dLogit = p * (keep * dProb - rowDelta);
                    for (int c = 0; c < dh; c++) {
                        dq[i][c] += d.scale() * dLogit * at(qkv, kj + c);
                        dk[j][c] += d.scale() * dLogit * at(qkv, qi + c);
                    }
                    if (scaleLive) dScale -= dLogit * slope * Math.abs(at(positions, b * n + i) - at(positions, b * n + j));
                }
            }
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < dh; c++) {
                    store(dqkv, qkvAt(d, b, t, 0, h) + c, dq[t][c], accumulate);
                    store(dqkv, qkvAt(d, b, t, 1, h) + c, dk[t][c], accumulate);
                    store(dqkv, qkvAt(d, b, t, 2, h) + c, dv[t][c], accumulate);
                }
            }
            dScalePart[bh] = dScale;
        });
        if (d.alibi()) {
            for (int h = 0; h < d.heads(); h++) {
                double g = 0;
                for (int b = 0; b < d.batch(); b++) g += dScalePart[b * d.heads() + h];
                store(dAlibiScale, h, g, true);
            }
        }
    }

    // ---- convolution ---------------------------------------------------------------------------

    private static void checkConv(ConvDesc d, Tensor x, Tensor w, Tensor y, String op) {
        if (x != null) requireSize(x, (long) d.batch() * d.inH() * d.inW() * d.inC(), op + " x [B,inH,inW,inC]");
        if (w != null) requireSize(w, (long) d.outC() * d.kH() * d.kW() * d.inPerGroup(), op + " w [outC,kH,kW,inC/groups]");
        if (y != null) requireSize(y, (long) d.batch() * d.outH() * d.outW() * d.outC(), op + " y [B,outH,outW,outC]");
    }

    private static int xAt(ConvDesc d, int b, int ih, int iw, int ic) { return ((b * d.inH() + ih) * d.inW() + iw) * d.inC() + ic; }

    private static int wAt(ConvDesc d, int oc, int kh, int kw, int ci) { return ((oc * d.kH() + kh) * d.kW() + kw) * d.inPerGroup() + ci; }

    private static int yAt(ConvDesc d, int b, int oh, int ow, int oc) { return ((b * d.outH() + oh) * d.outW() + ow) * d.outC() + oc; }

    @Override
    public void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        checkConv(d, x, w, y, "conv");
        if (bias != null) requireSize(bias, d.outC(), "conv bias");
        int icg = d.inPerGroup(), ocg = d.outPerGroup();
        // One task per output row (b, oh).
        IntStream.range(0, d.batch() * d.outH()).parallel().forEach(row -> {
            int b = row / d.outH(), oh = row % d.outH();
            for (int ow = 0; ow < d.outW(); ow++) {
                for (int oc = 0; oc < d.outC(); oc++) {
                    int g = oc / ocg;
                    double s = bias == null ? 0 : at(bias, oc);
                    for (int kh = 0; kh < d.kH(); kh++) {
                        int ih = oh * d.strideH() - d.padH() + kh;
                        if (ih < 0 || ih >= d.inH()) continue;
                        for (int kw = 0; kw < d.kW(); kw++) {
                            int iw = ow * d.strideW() - d.padW() + kw;
                            if (iw < 0 || iw >= d.inW()) continue;
                            for (int ci = 0; ci < icg; ci++) {
                                s += at(x, xAt(d, b, ih, iw, g * icg + ci)) * at(w, wAt(d, oc, kh, kw, ci));
                            }
                        }
                    }
                    store(y, yAt(d, b, oh, ow, oc), s, false);
                }
            }
        });
    }

    @Override
    public void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        checkConv(d, dx, w, dy, "convBackwardInput");
        int icg = d.inPerGroup(), ocg = d.outPerGroup();
        // Gather form: input pixel (ih, iw) received tap (kh, kw) of output (oh, ow) when
        // oh·strideH − padH + kh = ih; one task per input row (b, ih).
        IntStream.range(0, d.batch() * d.inH()).parallel().forEach(row -> {
            int b = row / d.inH(), ih = row % d.inH();
            for (int iw = 0; iw < d.inW(); iw++) {
                for (int ic = 0; ic < d.inC(); ic++) {
                    int g = ic / icg, ci = ic % icg;
                    double s = 0;
                    for (int kh = 0; kh < d.kH(); kh++) {
                        int ohS = ih + d.padH() - kh;
                        if (ohS < 0 || ohS % d.strideH() != 0 || ohS / d.strideH() >= d.outH()) continue;
                        int oh = ohS / d.strideH();
                        for (int kw = 0; kw < d.kW(); kw++) {
                            int owS = iw + d.padW() - kw;
                            if (owS < 0 || owS % d.strideW() != 0 || owS / d.strideW() >= d.outW()) continue;
                            int ow = owS / d.strideW();
                            for (int oc = g * ocg; oc < (g + 1) * ocg; oc++) {
                                s += at(dy, yAt(d, b, oh, ow, oc)) * at(w, wAt(d, oc, kh, kw, ci));
                            }
                        }
                    }
                    store(dx, xAt(d, b, ih, iw, ic), s, accumulate);
                }
            }
        });
    }

    @Override
    public void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        checkConv(d, x, dw, dy, "convBackwardWeight");
        if (dbias != null) requireSize(dbias, d.outC(), "convBackwardWeight dbias");
        int icg = d.inPerGroup(), ocg = d.outPerGroup();
        // One task per output channel, which owns its filter and its bias.
        IntStream.range(0, d.outC()).parallel().forEach(oc -> {
            int g = oc / ocg;
            for (int kh = 0; kh < d.kH(); kh++) {
                for (int kw = 0; kw < d.kW(); kw++) {
                    for (int ci = 0; ci < icg; ci++) {
                        double s = 0;
                        for (int b = 0; b < d.batch(); b++) {
                            for (int oh = 0; oh < d.outH(); oh++) {
                                int ih = oh * d.strideH() - d.padH() + kh;
                                if (ih < 0 || ih >= d.inH()) continue;
                                for (int ow = 0; ow < d.outW(); ow++) {
                                    int iw = ow * d.strideW() - d.padW() + kw;
                                    if (iw < 0 || iw >= d.inW()) continue;
                                    s += at(x, xAt(d, b, ih, iw, g * icg + ci)) * at(dy, yAt(d, b, oh, ow, oc));
                                }
                            }
                        }
                        store(dw, wAt(d, oc, kh, kw, ci), s, true);
                    }
                }
            }
            if (dbias != null) {
                double s = 0;
                for (int b = 0; b < d.batch(); b++) {
                    for (int oh = 0; oh < d.outH(); oh++) {
                        for (int ow = 0; ow < d.outW(); ow++) s += at(dy, yAt(d, b, oh, ow, oc));
                    }
                }
                store(dbias, oc, s, true);
            }
        });
    }

    // ---- losses --------------------------------------------------------------------------------

    @Override
    public void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred,
                                 double gradScale) {
        int rows = d.rows(), tokens = d.tokens(), dim = d.dim();
        requireSize(pred, (long) rows * tokens * dim, "maskedRegression pred [rows,tokens,dim]");
        requireSize(target, (long) rows / d.clones() * tokens * dim, "maskedRegression target [rows/clones,tokens,dim]");
        requireSize(mask, (long) rows * tokens, "maskedRegression mask [rows,tokens]");
        requireSize(loss, 1, "maskedRegression loss");
        if (dpred != null) requireSize(dpred, (long) rows * tokens * dim, "maskedRegression dpred");
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            int targetRow = r / d.clones(); // the clones of one sample share its target
            for (int t = 0; t < tokens; t++) {
                boolean masked = at(mask, r * tokens + t) != 0;
                for (int j = 0; j < dim; j++) {
                    int pi = (r * tokens + t) * dim + j;
                    double diff = at(pred, pi) - at(target, (targetRow * tokens + t) * dim + j);
                    if (masked) sum += diff * diff;
                    if (dpred != null) store(dpred, pi, masked ? gradScale * d.scale() * 2 * diff / d.normalizer() : 0, false);
                }
            }
        }
        store(loss, 0, d.scale() * sum / d.normalizer(), false);
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale) {
        if (logits.shape().rank() != 2) throw new IllegalArgumentException("crossEntropy: logits must be [rows, classes], got " + logits.shape());
        int rows = logits.dim(0), classes = logits.dim(1);
        requireSize(labels, rows, "crossEntropy labels");
        requireSize(loss, 1, "crossEntropy loss");
        if (dlogits != null) requireSize(dlogits, (long) rows * classes, "crossEntropy dlogits");
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int label = index(labels, r, classes, "crossEntropy label (classes " + classes + ")");
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, at(logits, r * classes + c));
            double z = 0;
            for (int c = 0; c < classes; c++) z += Math.exp(at(logits, r * classes + c) - max);
            double lse = max + Math.log(z);
            total += lse - at(logits, r * classes + label);
            if (dlogits != null) {
                for (int c = 0; c < classes; c++) {
                    double p = Math.exp(at(logits, r * classes + c) - lse);
                    store(dlogits, r * classes + c, gradScale * (p - (c == label ? 1 : 0)) / rows, false);
                }
            }
        }
        store(loss, 0, total / rows, false);
    }

    // ---- randomness ----------------------------------------------------------------------------

    private static void checkDropout(double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }

    @Override
    public void dropout(Tensor x, Tensor y, double p, long seed, long offset) {
        checkDropout(p);
        requireSize(y, x.numel(), "dropout y");
        IntStream.range(0, (int) x.numel()).parallel().forEach(i ->
                store(y, i, Philox.keep(seed, offset, i, p) ? at(x, i) / (1 - p) : 0, false));
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate) {
        checkDropout(p);
        requireSize(dx, dy.numel(), "dropoutBackward dx");
        IntStream.range(0, (int) dy.numel()).parallel().forEach(i ->
                store(dx, i, Philox.keep(seed, offset, i, p) ? at(dy, i) / (1 - p) : 0, accumulate));
    }

    @Override
    public void normal(Tensor out, double mean, double std, long seed, long offset) {
        IntStream.range(0, (int) out.numel()).parallel().forEach(i ->
                store(out, i, mean + std * Philox.normal(seed, offset, i), false));
    }

    @Override
    public void uniform(Tensor out, long seed, long offset) {
        IntStream.range(0, (int) out.numel()).parallel().forEach(i -> store(out, i, Philox.uniform(seed, offset, i), false));
    }

    // ---- optimisation --------------------------------------------------------------------------

    @Override
    public void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor working) {
        long n = param.numel();
        if (working != null) requireSize(working, n, "adamw working copy");
        requireSize(grad, n, "adamw grad");
        requireSize(m, n, "adamw m");
        requireSize(v, n, "adamw v");
        if (gradScale != null) requireSize(gradScale, 1, "adamw gradScale");
        double scale = gradScale == null ? 1 : at(gradScale, 0);
        double stepSize = d.stepSize();
        IntStream.range(0, (int) n).parallel().forEach(i -> {
            double g = at(grad, i) * scale;
            double mi = d.beta1() * at(m, i) + (1 - d.beta1()) * g;
            double vi = d.beta2() * at(v, i) + (1 - d.beta2()) * g * g;
            store(m, i, mi, false);
            store(v, i, vi, false);
            // Read back the stored moments so an F32 run steps with exactly what it keeps.
            mi = at(m, i);
            vi = at(v, i);
            double p = at(param, i);
            p -= d.lr() * d.weightDecay() * p;
            p -= stepSize * mi / (Math.sqrt(vi) + d.eps());
            store(param, i, p, false);
            if (working != null) store(working, i, at(param, i), false); // the stored master, rounded once more
        });
    }

    @Override
    public void clipFactor(Tensor sumSquares, double maxNorm, Tensor norm, Tensor factor) {
        requireSize(sumSquares, 1, "clipFactor sumSquares");
        requireSize(norm, 1, "clipFactor norm");
        requireSize(factor, 1, "clipFactor factor");
        double total = Math.sqrt(at(sumSquares, 0));
        store(norm, 0, total, false);
        store(factor, 0, maxNorm > 0 ? Math.min(1, maxNorm / (total + 1e-6)) : 1, false);
    }

    @Override
    public void ema(Tensor teacher, Tensor student, double tau, Tensor working) {
        requireSize(student, teacher.numel(), "ema student");
        if (working != null) requireSize(working, teacher.numel(), "ema working copy");
        IntStream.range(0, (int) teacher.numel()).parallel().forEach(i -> {
            store(teacher, i, tau * at(teacher, i) + (1 - tau) * at(student, i), false);
            if (working != null) store(working, i, at(teacher, i), false);
        });
    }
}
