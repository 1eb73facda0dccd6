package org.d2v.diagnostics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EffectiveRankTest {
    @Test
    void jacobiFindsTheEigenvaluesOfARotatedDiagonalMatrix() {
        int d = 7;
        double[] want = {5, 3, 3, 1, 0.5, 0.01, 0};
        double[][] q = randomOrthogonal(d, new Random(3));
        double[][] a = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) for (int k = 0; k < d; k++) a[i][j] += q[i][k] * want[k] * q[j][k];
        double[] got = SymmetricEigen.values(a);
        Arrays.sort(got);
        double[] sorted = want.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < d; i++) assertEquals(sorted[i], got[i], 1e-10, "eigenvalue " + i);
    }

    @Test
    void rankIsTheExponentialOfTheSingularValueEntropy() {
        // Rows ±s_k e_k: centred singular values proportional to s_k, so the rank has a closed form.
        double[] s = {4, 2, 1};
        int d = 5, n = 2 * s.length;
        double[] x = new double[n * d];
        for (int k = 0; k < s.length; k++) {
            x[(2 * k) * d + k] = s[k];
            x[(2 * k + 1) * d + k] = -s[k];
        }
        double sum = 4 + 2 + 1, h = 0;
        for (double v : s) h -= v / sum * Math.log(v / sum);
        assertEquals(Math.exp(h), EffectiveRank.of(x, n, d), 1e-9);
    }

    @Test
    void evenlySpreadFeaturesHaveFullRankAndALineHasRankOne() {
        Random r = new Random(5);
        int n = 4000, d = 6;
        double[] iso = new double[n * d], line = new double[n * d];
        for (int i = 0; i < n; i++) {
            double t = r.nextGaussian();
            for (int c = 0; c < d; c++) {
                iso[i * d + c] = r.nextGaussian() + 3;
                line[i * d + c] = t * (c + 1) + 7;
            }
        }
        assertEquals(d, EffectiveRank.of(iso, n, d), 0.1, "isotropic Gaussian features");
        assertEquals(1, EffectiveRank.of(line, n, d), 1e-6, "features on one line (after centring)");
        assertEquals(0, EffectiveRank.of(new double[3 * d], 3, d), 0, "identical rows have no spread");
        assertThrows(IllegalArgumentException.class, () -> EffectiveRank.of(new double[5], 2, 3));
    }

    private static double[][] randomOrthogonal(int d, Random r) {
        double[][] q = new double[d][d];
        for (int j = 0; j < d; j++) {
            double[] v = new double[d];
            for (int i = 0; i < d; i++) v[i] = r.nextGaussian();
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < d; i++) dot += v[i] * q[i][k];
                for (int i = 0; i < d; i++) v[i] -= dot * q[i][k];
            }
            double norm = 0;
            for (double e : v) norm += e * e;
            for (int i = 0; i < d; i++) q[i][j] = v[i] / Math.sqrt(norm);
        }
        return q;
    }
}
