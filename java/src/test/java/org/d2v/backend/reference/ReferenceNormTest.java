package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.d2v.backend.NormDesc;
import org.d2v.testing.Approx;
import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** LayerNorm and instance norm: hand-computed forwards and finite-difference gradients. */
class ReferenceNormTest extends ReferenceTestBase {

    @Test
    void layerNormByHand() {
        // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25. Row [2, 2, 2, 6]: mean 3, variance 3.
        Tensor x = of(new double[] {1, 2, 3, 4, 2, 2, 2, 6}, 2, 4);
        Tensor gamma = of(new double[] {1, 2, 1, 2}, 4), beta = of(new double[] {0, 0, 1, 1}, 4);
        Tensor y = poisoned(2, 4), mean = poisoned(2), rstd = poisoned(2);
        double eps = 1e-5;
        ops.layerNorm(new NormDesc(2, 4, eps), x, gamma, beta, y, mean, rstd);
        double r0 = 1 / Math.sqrt(1.25 + eps), r1 = 1 / Math.sqrt(3 + eps);
        double[] expected = {-1.5 * r0, 2 * -0.5 * r0, 0.5 * r0 + 1, 2 * 1.5 * r0 + 1,
            -r1, 2 * -r1, -r1 + 1, 2 * 3 * r1 + 1};
        Approx.assertClose(expected, y.toDoubles(), 1e-15, "affine LayerNorm");
        Approx.assertClose(new double[] {2.5, 3}, mean.toDoubles(), 1e-15, "mean");
        Approx.assertClose(new double[] {r0, r1}, rstd.toDoubles(), 1e-15, "rstd");
        ops.layerNorm(new NormDesc(2, 4, eps), x, null, null, y, mean, rstd);
        assertEquals(-1.5 * r0, y.toDoubles()[0], 1e-15);
        assertEquals(3 * r1, y.toDoubles()[7], 1e-15);
    }

    private void layerNormGradient(boolean affine) {
        int rows = 5, dim = 6;
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        Tensor x = random(rows, dim), y = zeros(rows, dim), mean = zeros(rows), rstd = zeros(rows);
        Tensor gamma = affine ? of(rand.uniform(dim, 0.5, 1.5), dim) : null, beta = affine ? random(dim) : null;
        Tensor dx = zeros(rows, dim), dgamma = zeros(dim), dbeta = zeros(dim);
        double[] w = weights(y);
        GradCheck check = GradCheck.of(grads -> {
            ops.layerNorm(d, x, gamma, beta, y, mean, rstd);
            if (grads) ops.layerNormBackward(d, x, gamma, mean, rstd, of(w, rows, dim), dx,
                    affine ? dgamma : null, affine ? dbeta : null, false);
            return GradCheck.dot(y, w);
        }).wrt("x", x, dx);
        if (affine) check.wrt("gamma", gamma, dgamma).wrt("beta", beta, dbeta);
        check.check();
    }

    @Test
    void gradLayerNormAffine() { layerNormGradient(true); }

    @Test
    void gradLayerNormNonAffine() { layerNormGradient(false); }

    @Test
    void instanceNormByHand() {
        // x [1, 3, 2]: channel 0 over time is [1, 2, 3] (mean 2, var 2/3), channel 1 is [0, 0, 6] (mean 2, var 8).
        Tensor x = of(new double[] {1, 0, 2, 0, 3, 6}, 1, 3, 2);
        Tensor y = poisoned(1, 3, 2), mean = poisoned(1, 2), rstd = poisoned(1, 2);
        ops.instanceNorm(1, 3, 2, 0, x, y, mean, rstd);
        double r0 = Math.sqrt(1.5), r1 = 1 / Math.sqrt(8);
        Approx.assertClose(new double[] {-r0, -2 * r1, 0, -2 * r1, r0, 4 * r1}, y.toDoubles(), 1e-15, "instance norm");
        Approx.assertClose(new double[] {2, 2}, mean.toDoubles(), 1e-15, "mean");
        Approx.assertClose(new double[] {r0, r1}, rstd.toDoubles(), 1e-15, "rstd");
    }

    @Test
    void gradInstanceNorm() {
        int b = 3, t = 5, c = 4;
        Tensor x = random(b, t, c), y = zeros(b, t, c), mean = zeros(b, c), rstd = zeros(b, c), dx = zeros(b, t, c);
        double[] w = weights(y);
        GradCheck.of(grads -> {
            ops.instanceNorm(b, t, c, 1e-5, x, y, mean, rstd);
            if (grads) ops.instanceNormBackward(b, t, c, x, mean, rstd, of(w, b, t, c), dx, false);
            return GradCheck.dot(y, w);
        }).wrt("x", x, dx).check();
    }
}
