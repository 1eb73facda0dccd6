package org.d2v.diagnostics;

/**
 * How much of the targets' spread is explained by position alone: over a batch of b equal-length
 * inputs [b, T, D], the sum of squares of the per-position means (over the b samples) around the
 * channel means, divided by the total sum of squares. On pretraining blocks, which start at
 * arbitrary offsets into their documents, position carries no content; a share far above the
 * value of unrelated samples, (T − 1) / (bT − 1), means the targets say where a token is rather than
 * what it is — a regression any model can fit from positions alone.
 */
public final class PositionShare {
    private PositionShare() {}

    public static double of(double[] y, int b, int t, int d) {
        if (y.length != (long) b * t * d || b < 2) throw new IllegalArgumentException("need [b >= 2, T, D] values");
        double[] channelMean = new double[d];
        for (int i = 0; i < b * t; i++) for (int c = 0; c < d; c++) channelMean[c] += y[i * d + c] / (b * t);
        double total = 0, between = 0;
        for (int p = 0; p < t; p++) {
            for (int c = 0; c < d; c++) {
                double m = 0;
                for (int s = 0; s < b; s++) {
                    double v = y[(s * t + p) * d + c];
                    m += v / b;
                    total += (v - channelMean[c]) * (v - channelMean[c]);
                }
                between += b * (m - channelMean[c]) * (m - channelMean[c]);
            }
        }
        return total > 0 ? between / total : Double.NaN;
    }

    /** The share expected of samples unrelated to their positions. */
    public static double chance(int b, int t) { return (t - 1.0) / (b * (double) t - 1); }
}
