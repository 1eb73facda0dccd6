package org.d2v.diagnostics;

/**
 * Spread of activations [B, T, D] (samples, positions, channels), accumulated over batches:
 * the variance over positions (per sample and channel, averaged over both), the variance over
 * channels (per sample and position, averaged), and fairseq's {@code compute_var} statistic (the
 * mean over channels of each channel's standard deviation across all tokens, docs/algorithm.md §7.3).
 */
final class ActivationStats {
    private double overPositions, overChannels;
    private long positionGroups, channelGroups;
    private double[] sum, sumSq;
    private long tokens;

    /** Adds x [b, t, d] row-major. */
    void add(double[] x, int b, int t, int d) {
        if (x.length != (long) b * t * d) throw new IllegalArgumentException(x.length + " values for " + b + "×" + t + "×" + d);
        if (sum == null) {
            sum = new double[d];
            sumSq = new double[d];
        } else if (sum.length != d) {
            throw new IllegalArgumentException("width " + d + " after width " + sum.length);
        }
        for (int s = 0; s < b; s++) {
            int base = s * t * d;
            if (t > 1) {
                for (int c = 0; c < d; c++) {
                    double m = 0, q = 0;
                    for (int p = 0; p < t; p++) m += x[base + p * d + c];
                    m /= t;
                    for (int p = 0; p < t; p++) {
                        double e = x[base + p * d + c] - m;
                        q += e * e;
                    }
                    overPositions += q / t;
                    positionGroups++;
                }
            }
            for (int p = 0; p < t; p++) {
                int at = base + p * d;
                double m = 0, q = 0;
                for (int c = 0; c < d; c++) m += x[at + c];
                m /= d;
                for (int c = 0; c < d; c++) {
                    double e = x[at + c] - m;
                    q += e * e;
                    sum[c] += x[at + c];
                    sumSq[c] += x[at + c] * x[at + c];
                }
                overChannels += q / d;
                channelGroups++;
            }
        }
        tokens += (long) b * t;
    }

    double varianceOverPositions() { return positionGroups == 0 ? Double.NaN : overPositions / positionGroups; }

    double varianceOverChannels() { return channelGroups == 0 ? Double.NaN : overChannels / channelGroups; }

    /** Mean over channels of sqrt(unbiased variance across tokens + 1e-6), as fairseq's compute_var. */
    double meanChannelStd() {
        if (tokens < 2) return Double.NaN;
        double out = 0;
        for (int c = 0; c < sum.length; c++) {
            double mean = sum[c] / tokens;
            double var = Math.max(0, sumSq[c] / tokens - mean * mean) * tokens / (tokens - 1);
            out += Math.sqrt(var + 1e-6);
        }
        return out / sum.length;
    }

    /** Instance norm over positions (per sample and channel, eps 1e-5, the targets' normalisation): a new array. */
    static double[] instanceNorm(double[] x, int b, int t, int d) {
        double[] y = new double[x.length];
        for (int s = 0; s < b; s++) {
            int base = s * t * d;
            for (int c = 0; c < d; c++) {
                double m = 0, q = 0;
                for (int p = 0; p < t; p++) m += x[base + p * d + c];
                m /= t;
                for (int p = 0; p < t; p++) {
                    double e = x[base + p * d + c] - m;
                    q += e * e;
                }
                double inv = 1 / Math.sqrt(q / t + 1e-5);
                for (int p = 0; p < t; p++) y[base + p * d + c] = (x[base + p * d + c] - m) * inv;
            }
        }
        return y;
    }
}
