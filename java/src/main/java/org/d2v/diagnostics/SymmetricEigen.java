package org.d2v.diagnostics;

/** Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (d of a few hundred at most). */
final class SymmetricEigen {
    private static final int MAX_SWEEPS = 60;

    private SymmetricEigen() {}

    /** The eigenvalues of {@code a} (symmetric, d × d; overwritten), in no particular order. */
    static double[] values(double[][] a) {
        int d = a.length;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0, diag = 0;
            for (int p = 0; p < d; p++) {
                diag += a[p][p] * a[p][p];
                for (int q = p + 1; q < d; q++) off += a[p][q] * a[p][q];
            }
            if (off <= 1e-24 * Math.max(diag, 1e-300)) break;
            for (int p = 0; p < d; p++) {
                for (int q = p + 1; q < d; q++) {
                    double apq = a[p][q];
                    if (Math.abs(apq) < 1e-300) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < d; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < d; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                }
            }
        }
        double[] out = new double[d];
        for (int i = 0; i < d; i++) out[i] = a[i][i];
        return out;
    }
}
