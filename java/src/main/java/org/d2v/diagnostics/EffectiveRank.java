package org.d2v.diagnostics;

/**
 * The effective rank of a set of feature vectors (Roy &amp; Vetterli, 2007): exp of the entropy of
 * the normalised singular values of the centred n × d matrix. It is d for features spread evenly
 * over d directions and 1 when they all lie on one line, so a collapse shows as a falling value.
 */
public final class EffectiveRank {
    private EffectiveRank() {}

    /** {@code x} is n × d row-major; rows are centred first (the mean row carries no spread). */
    public static double of(double[] x, int n, int d) {
        if (n < 2 || d < 1 || x.length != (long) n * d) throw new IllegalArgumentException("need n >= 2 rows of width d, got " + x.length + " values for n " + n + ", d " + d);
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) mean[c] += x[i * d + c] / n;
        // The singular values are the square roots of the eigenvalues of the d × d scatter matrix.
        double[][] s = new double[d][d];
        double[] row = new double[d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) row[c] = x[i * d + c] - mean[c];
            for (int a = 0; a < d; a++) {
                double ra = row[a];
                if (ra == 0) continue;
                for (int b = a; b < d; b++) s[a][b] += ra * row[b];
            }
        }
        for (int a = 0; a < d; a++) for (int b = 0; b < a; b++) s[a][b] = s[b][a];
        double[] eig = SymmetricEigen.values(s);
        double sum = 0;
        for (double e : eig) sum += Math.sqrt(Math.max(0, e));
        if (!(sum > 0)) return 0;
        double h = 0;
        for (double e : eig) {
            double p = Math.sqrt(Math.max(0, e)) / sum;
            if (p > 0) h -= p * Math.log(p);
        }
        return Math.exp(h);
    }

    /** The same for float features (the probe's layout). */
    public static double of(float[] x, int n, int d) {
        double[] v = new double[x.length];
        for (int i = 0; i < v.length; i++) v[i] = x[i];
        return of(v, n, d);
    }
}
