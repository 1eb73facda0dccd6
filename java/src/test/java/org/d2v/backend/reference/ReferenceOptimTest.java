package org.d2v.backend.reference;

import org.d2v.backend.AdamWDesc;
import org.d2v.testing.Approx;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** AdamW (fairseq form) and the EMA teacher update against the formulas written out by hand. */
class ReferenceOptimTest extends ReferenceTestBase {

    @Test
    void adamwTwoStepsByHand() {
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01, gs = 0.5;
        double[] p = {1, -2, 0.5}, m = {0, 0, 0}, v = {0, 0, 0};
        double[][] grads = {{0.5, -1, 0}, {-0.25, 2, 3}};
        Tensor param = of(p.clone(), 3), mt = zeros(3), vt = zeros(3);
        for (int t = 1; t <= 2; t++) {
            ops.adamw(new AdamWDesc(lr, b1, b2, eps, wd, t), param, of(grads[t - 1], 3), mt, vt, of(new double[] {gs}, 1));
            for (int i = 0; i < 3; i++) {
                double g = grads[t - 1][i] * gs;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                p[i] = p[i] - lr * wd * p[i];
                p[i] = p[i] - lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t)) * m[i] / (Math.sqrt(v[i]) + eps);
            }
            Approx.assertClose(p, param.toDoubles(), 1e-15, "param after step " + t);
            Approx.assertClose(m, mt.toDoubles(), 1e-15, "m after step " + t);
            Approx.assertClose(v, vt.toDoubles(), 1e-15, "v after step " + t);
        }
        // The first step of Adam moves each parameter with a gradient by about lr against its sign.
        Approx.assertClose(new double[] {1 * 0.999 - 0.1, -2 * 0.999 + 0.1},
                new double[] {first(1, 0.5), first(-2, -1)}, 1e-6, "first-step size");
    }

    private double first(double p0, double g) {
        Tensor param = of(new double[] {p0}, 1);
        ops.adamw(new AdamWDesc(0.1, 0.9, 0.999, 1e-8, 0.01, 1), param, of(new double[] {g}, 1), zeros(1), zeros(1), of(new double[] {0.5}, 1));
        return param.item();
    }

    @Test
    void emaByHand() {
        Tensor teacher = of(new double[] {1, 2}, 2);
        ops.ema(teacher, of(new double[] {3, -2}, 2), 0.75);
        Approx.assertClose(new double[] {1.5, 1}, teacher.toDoubles(), 1e-15, "ema");
    }
}
