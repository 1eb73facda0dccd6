package org.d2v.backend.kernel;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Philox;
import org.d2v.tensor.Bf16;

/**
 * The "naive bf16" baselines of the fused ops (the project's rule for bf16 kernels, and the
 * flash-attention method): the op decomposed into the primitives a framework would run in bf16
 * (PyTorch eager without fusion), every intermediate tensor stored in bf16, each primitive's own
 * arithmetic exact (here in double, as a bf16 matmul or softmax accumulates in fp32 inside). The
 * inputs are the bf16 values the kernel receives. A kernel passes when its error against the float64
 * reference (on the unrounded inputs) is at most twice the baseline's. Primitive ops need no code
 * here: their naive form is the reference op itself storing its result in bf16.
 */
final class Bf16Naive {
    private Bf16Naive() {}

    static double bf(double v) { return Bf16.round(v); }

    static double[] bf(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = bf(v[i]);
        return out;
    }

    /** y, mean, rstd of LayerNorm over rows of x (bf16 values): mean, x − mean, var, rstd, x̂, ·γ, +β each stored. */
    static double[][] layerNorm(double[] x, int rows, int dim, double[] gamma, double[] beta, double eps) {
        double[] y = new double[rows * dim], mean = new double[rows], rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < dim; j++) s += x[r * dim + j];
            double mu = bf(s / dim);
            double[] c = new double[dim];
            double q = 0;
            for (int j = 0; j < dim; j++) {
                c[j] = bf(x[r * dim + j] - mu);
                q += bf(c[j] * c[j]);
            }
            double rs = bf(1 / Math.sqrt(bf(bf(q / dim) + eps)));
            for (int j = 0; j < dim; j++) {
                double v = bf(c[j] * rs);
                if (gamma != null) v = bf(v * bf(gamma[j]));
                if (beta != null) v = bf(v + bf(beta[j]));
                y[r * dim + j] = v;
            }
            mean[r] = mu;
            rstd[r] = rs;
        }
        return new double[][] {y, mean, rstd};
    }

    /**
     * dx, dgamma, dbeta of LayerNorm from bf16 x, dy, gamma and the statistics: x̂, g = dy·γ,
     * mean(g), g·x̂, mean(g·x̂), g − mean(g) − x̂·mean(g·x̂), ·rstd each stored; the parameter
     * gradients are bf16 sums over rows.
     */
    static double[][] layerNormBackward(double[] x, double[] gamma, double[] mean, double[] rstd, double[] dy, int rows, int dim) {
        double[] dx = new double[rows * dim], dg = new double[dim], db = new double[dim];
        double[][] xh = new double[rows][dim];
        for (int r = 0; r < rows; r++) {
            double[] g = new double[dim];
            double sg = 0, sgx = 0;
            for (int j = 0; j < dim; j++) {
                xh[r][j] = bf(bf(x[r * dim + j] - mean[r]) * rstd[r]);
                g[j] = gamma == null ? dy[r * dim + j] : bf(dy[r * dim + j] * bf(gamma[j]));
                sg += g[j];
                sgx += bf(g[j] * xh[r][j]);
            }
            double mg = bf(sg / dim), mgx = bf(sgx / dim);
            for (int j = 0; j < dim; j++) {
                double t = bf(bf(g[j] - mg) - bf(xh[r][j] * mgx));
                dx[r * dim + j] = bf(rstd[r] * t);
            }
        }
        for (int j = 0; j < dim; j++) {
            double sg = 0, sb = 0;
            for (int r = 0; r < rows; r++) {
                sg += bf(dy[r * dim + j] * xh[r][j]);
                sb += dy[r * dim + j];
            }
            dg[j] = bf(sg);
            db[j] = bf(sb);
        }
        return new double[][] {dx, dg, db};
    }

    /** y, mean, rstd of instance norm over time of x [batch, time, channels], decomposed as {@link #layerNorm}. */
    static double[][] instanceNorm(double[] x, int batch, int time, int ch, double eps) {
        double[] t = transpose(x, batch, time, ch);
        double[][] r = layerNorm(t, batch * ch, time, null, null, eps);
        return new double[][] {transposeBack(r[0], batch, time, ch), r[1], r[2]};
    }

    static double[] instanceNormBackward(double[] x, double[] mean, double[] rstd, double[] dy, int batch, int time, int ch) {
        double[][] r = layerNormBackward(transpose(x, batch, time, ch), null, mean, rstd, transpose(dy, batch, time, ch), batch * ch, time);
        return transposeBack(r[0], batch, time, ch);
    }

    /** [b, t, c] → [b, c, t] rows. */
    private static double[] transpose(double[] x, int batch, int time, int ch) {
        double[] out = new double[x.length];
        for (int b = 0; b < batch; b++) for (int t = 0; t < time; t++) for (int c = 0; c < ch; c++) {
            out[(b * ch + c) * time + t] = x[(b * time + t) * ch + c];
        }
        return out;
    }

    private static double[] transposeBack(double[] x, int batch, int time, int ch) {
        double[] out = new double[x.length];
        for (int b = 0; b < batch; b++) for (int t = 0; t < time; t++) for (int c = 0; c < ch; c++) {
            out[(b * time + t) * ch + c] = x[(b * ch + c) * time + t];
        }
        return out;
    }

    /** Masked regression: d = pred − target, d², the masked sum·coef, and dpred = 2·coef·gradScale·d, each stored. */
    static double[] maskedRegression(double[] pred, double[] target, int[] mask, int rows, int tokens, int dim, int clones,
                                     double coef, double gradScale, double[] dpred) {
        double s = 0;
        int slot = tokens * dim;
        for (int e = 0; e < pred.length; e++) {
            int r = e / slot, rem = e % slot;
            boolean masked = mask[r * tokens + rem / dim] != 0;
            double d = bf(pred[e] - target[(r / clones) * slot + rem]);
            if (masked) s += bf(d * d);
            dpred[e] = masked ? bf(bf(2 * coef * gradScale) * d) : 0;
        }
        return new double[] {bf(bf(s) * coef)};
    }

    /** Cross-entropy: log_softmax and softmax stored, the loss −mean(log p[label]) and dlogits = coef·(softmax − onehot) stored. */
    static double crossEntropy(double[] logits, int[] labels, int rows, int classes, double gradScale, double[] dlogits) {
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            double mx = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) mx = Math.max(mx, logits[r * classes + j]);
            double z = 0;
            for (int j = 0; j < classes; j++) z += Math.exp(logits[r * classes + j] - mx);
            double lse = mx + Math.log(z);
            loss += bf(logits[r * classes + labels[r]] - lse);
            for (int j = 0; j < classes; j++) {
                double p = bf(Math.exp(logits[r * classes + j] - lse));
                dlogits[r * classes + j] = bf(bf(gradScale / rows) * bf(p - (j == labels[r] ? 1 : 0)));
            }
        }
        return bf(-bf(loss) / rows);
    }

    /** Logits of one (b, h) as a naive implementation stores them: q·k, ·scale, − ALiBi bias (each stored), −∞ where padded. */
    private static double[][] logits(AttentionDesc d, double[] qkv, int b, int h, double[] slopes, double[] scales,
                                     int[] pos, int[] pad) {
        int t = d.tokens(), dh = d.headDim();
        double coef = d.alibi() ? bf(slopes[h] * Math.max(scales[h], 0)) : 0;
        double[][] s = new double[t][t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                if (d.keyPadding() && pad[b * t + j] != 0) { s[i][j] = Double.NEGATIVE_INFINITY; continue; }
                double dot = 0;
                for (int c = 0; c < dh; c++) dot += qkv[at(d, b, i, 0, h) + c] * qkv[at(d, b, j, 1, h) + c];
                double v = bf(bf(dot) * d.scale());
                if (d.alibi()) v = bf(v - bf(coef * Math.abs(pos[b * t + i] - pos[b * t + j])));
                s[i][j] = v;
            }
        }
        return s;
    }

    /** Element (b, t, part, h, 0) of qkv [B,T,3,H,Dh]. */
    static int at(AttentionDesc d, int b, int t, int part, int h) {
        return (((b * d.tokens() + t) * 3 + part) * d.heads() + h) * d.headDim();
    }

    private static double drop(AttentionDesc d, int b, int h, int i, int j) {
        if (d.dropout() == 0) return 1;
        long e = (((long) b * d.heads() + h) * d.tokens() + i) * d.tokens() + j;
        return Philox.keep(d.seed(), d.offset(), e, d.dropout()) ? bf(1 / (1 - d.dropout())) : 0;
    }

    /** softmax(S) stored (each row at once, exact inside), or null for a row whose keys are all padded. */
    private static double[][] probabilities(double[][] s) {
        double[][] p = new double[s.length][];
        for (int i = 0; i < s.length; i++) {
            double mx = Double.NEGATIVE_INFINITY;
            for (double v : s[i]) mx = Math.max(mx, v);
            if (mx == Double.NEGATIVE_INFINITY) continue;
            double z = 0;
            for (double v : s[i]) z += Math.exp(v - mx);
            p[i] = new double[s[i].length];
            for (int j = 0; j < s[i].length; j++) p[i][j] = bf(Math.exp(s[i][j] - mx) / z);
        }
        return p;
    }

    /** out [B,T,H,Dh] and lse [B,H,T]: logits, softmax, dropout, P·V, each stored. */
    static double[][] attention(AttentionDesc d, double[] qkv, double[] slopes, double[] scales, int[] pos, int[] pad) {
        int t = d.tokens(), dh = d.headDim(), hs = d.heads();
        double[] out = new double[d.batch() * t * hs * dh], lse = new double[d.batch() * hs * t];
        for (int b = 0; b < d.batch(); b++) {
            for (int h = 0; h < hs; h++) {
                double[][] s = logits(d, qkv, b, h, slopes, scales, pos, pad);
                double[][] p = probabilities(s);
                for (int i = 0; i < t; i++) {
                    double mx = Double.NEGATIVE_INFINITY, z = 0;
                    for (double v : s[i]) mx = Math.max(mx, v);
                    for (double v : s[i]) z += Math.exp(v - mx);
                    lse[(b * hs + h) * t + i] = bf(mx + Math.log(z));
                    for (int c = 0; c < dh; c++) {
                        double o = 0;
                        for (int j = 0; j < t && p[i] != null; j++) o += bf(p[i][j] * drop(d, b, h, i, j)) * qkv[at(d, b, j, 2, h) + c];
                        out[((b * t + i) * hs + h) * dh + c] = bf(o);
                    }
                }
            }
        }
        return new double[][] {out, lse};
    }

    /**
     * dqkv [B,T,3,H,Dh] and dAlibiScale [H] (−slope·Σ dS·distance): P recomputed as forward, then
     * dO·Vᵀ, dropout, the softmax backward P·(dP − Σ P·dP) (one primitive), ·scale, dS·K, dSᵀ·Q and
     * P'ᵀ·dO, each stored.
     */
    static double[][] attentionBackward(AttentionDesc d, double[] qkv, double[] slopes, double[] scales, int[] pos, int[] pad,
                                        double[] dout) {
        int t = d.tokens(), dh = d.headDim(), hs = d.heads();
        double[] dqkv = new double[qkv.length], dScale = new double[hs];
        for (int b = 0; b < d.batch(); b++) {
            for (int h = 0; h < hs; h++) {
                double[][] p = probabilities(logits(d, qkv, b, h, slopes, scales, pos, pad));
                double[][] ds = new double[t][t], pd = new double[t][t];
                for (int i = 0; i < t; i++) {
                    if (p[i] == null) continue;
                    double[] dp = new double[t];
                    double dot = 0;
                    for (int j = 0; j < t; j++) {
                        double g = 0;
                        for (int c = 0; c < dh; c++) g += dout[((b * t + i) * hs + h) * dh + c] * qkv[at(d, b, j, 2, h) + c];
                        double z = drop(d, b, h, i, j);
                        dp[j] = bf(bf(g) * z);
                        pd[i][j] = bf(p[i][j] * z);
                        dot += p[i][j] * dp[j];
                    }
                    for (int j = 0; j < t; j++) ds[i][j] = bf(p[i][j] * (dp[j] - dot));
                }
                double scaleSum = 0;
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        if (d.alibi()) scaleSum += bf(ds[i][j] * Math.abs(pos[b * t + i] - pos[b * t + j]));
                        ds[i][j] = bf(ds[i][j] * d.scale());
                    }
                }
                if (d.alibi() && scales[h] >= 0) dScale[h] += -slopes[h] * bf(scaleSum);
                for (int i = 0; i < t; i++) {
                    for (int c = 0; c < dh; c++) {
                        double gq = 0, gk = 0, gv = 0;
                        for (int j = 0; j < t; j++) {
                            gq += ds[i][j] * qkv[at(d, b, j, 1, h) + c];
                            gk += ds[j][i] * qkv[at(d, b, j, 0, h) + c];
                            gv += pd[j][i] * dout[((b * t + j) * hs + h) * dh + c];
                        }
                        dqkv[at(d, b, i, 0, h) + c] = bf(gq);
                        dqkv[at(d, b, i, 1, h) + c] = bf(gk);
                        dqkv[at(d, b, i, 2, h) + c] = bf(gv);
                    }
                }
            }
        }
        for (int h = 0; h < hs; h++) dScale[h] = bf(dScale[h]);
        return new double[][] {dqkv, dScale};
    }
}
