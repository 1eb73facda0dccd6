package org.d2v.eval;

/**
 * Per-feature standardisation fitted on the training split only (features constant on the
 * training split are centred but not scaled), applied to any split, producing doubles.
 */
public final class Standardizer {
    private final double[] mean, scale;

    private Standardizer(double[] mean, double[] scale) {
        this.mean = mean;
        this.scale = scale;
    }

    /** Fits on n rows of dimension dim stored row-major in {@code x}. */
    public static Standardizer fit(float[] x, int dim) {
        int n = x.length / dim;
        double[] mean = new double[dim], sq = new double[dim];
        for (int i = 0; i < n; i++) for (int j = 0; j < dim; j++) mean[j] += x[i * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= n;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < dim; j++) {
                double d = x[i * dim + j] - mean[j];
                sq[j] += d * d;
            }
        }
        double[] scale = new double[dim];
        for (int j = 0; j < dim; j++) {
            double sd = Math.sqrt(sq[j] / n);
            scale[j] = sd > 1e-8 ? 1 / sd : 1;
        }
        return new Standardizer(mean, scale);
    }

    public double[] apply(float[] x) {
        int dim = mean.length;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (x[i] - mean[i % dim]) * scale[i % dim];
        return out;
    }
}
