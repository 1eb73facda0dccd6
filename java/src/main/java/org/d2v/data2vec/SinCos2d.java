package org.d2v.data2vec;

/**
 * The fixed 2-D sin-cos position table of MAE (docs/algorithm.md §3.1), [gridH·gridW, dim] row-major. The
 * first dim/2 channels encode the column, the last dim/2 the row (MAE's meshgrid order); each
 * half is [sin(p·ω_k) | cos(p·ω_k)] with ω_k = 10000^(−k/(dim/4)), k = 0..dim/4 − 1.
 */
public final class SinCos2d {
    private SinCos2d() {}

    public static double[] table(int dim, int gridH, int gridW) {
        if (dim % 4 != 0) throw new IllegalArgumentException("2-D sin-cos positions need dim divisible by 4, got " + dim);
        int quarter = dim / 4;
        double[] out = new double[gridH * gridW * dim];
        for (int i = 0; i < gridH; i++) {
            for (int j = 0; j < gridW; j++) {
                int base = (i * gridW + j) * dim;
                for (int k = 0; k < quarter; k++) {
                    double omega = Math.pow(10000, -(double) k / quarter);
                    out[base + k] = Math.sin(j * omega);
                    out[base + quarter + k] = Math.cos(j * omega);
                    out[base + 2 * quarter + k] = Math.sin(i * omega);
                    out[base + 3 * quarter + k] = Math.cos(i * omega);
                }
            }
        }
        return out;
    }
}
