package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.Philox;
import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Dropout, normal and uniform follow the Philox stream layout and have the right statistics. */
class ReferenceRandomTest extends ReferenceTestBase {
    private static final int N = 100_000;

    @Test
    void dropoutKeepsAboutOneMinusPAndScales() {
        double p = 0.3;
        Tensor x = of(rand.uniform(N, 1, 2), N), y = poisoned(N);
        ops.dropout(x, y, p, 99, 7);
        double[] xs = x.toDoubles(), ys = y.toDoubles();
        int kept = 0;
        for (int i = 0; i < N; i++) {
            boolean keep = Philox.keep(99, 7, i, p);
            assertEquals(keep ? xs[i] / (1 - p) : 0, ys[i], 0, "element " + i);
            if (ys[i] != 0) kept++;
        }
        // the standard error of the kept fraction is sqrt(p(1−p)/N) ≈ 0.0014
        assertEquals(1 - p, kept / (double) N, 0.01);
        Tensor dx = poisoned(N);
        ops.dropoutBackward(x, dx, p, 99, 7, false);
        double[] dxs = dx.toDoubles();
        for (int i = 0; i < N; i++) assertEquals(ys[i], dxs[i], 0, "backward mask equals forward mask at " + i);
        ops.dropout(x, y, 0, 99, 7);
        assertEquals(xs[12345], y.toDoubles()[12345], 0, "p = 0 keeps everything");
    }

    @Test
    void gradDropout() {
        Tensor x = random(4, 9), y = zeros(4, 9), dx = zeros(4, 9);
        double[] w = weights(y);
        GradCheck.of(grads -> {
            ops.dropout(x, y, 0.4, 5, 3);
            if (grads) ops.dropoutBackward(of(w, 4, 9), dx, 0.4, 5, 3, false);
            return GradCheck.dot(y, w);
        }).wrt("x", x, dx).check();
    }

    @Test
    void normalHasMeanZeroStdOneAndFollowsTheStream() {
        Tensor z = poisoned(N);
        ops.normal(z, 0, 1, 2026, 11);
        double[] v = z.toDoubles();
        double sum = 0, sq = 0;
        for (double e : v) {
            sum += e;
            sq += e * e;
        }
        double mean = sum / N, std = Math.sqrt(sq / N - mean * mean);
        assertEquals(0, mean, 0.02);
        assertEquals(1, std, 0.02);
        assertEquals(Philox.normal(2026, 11, 777), v[777], 0);
        Tensor shifted = poisoned(10);
        ops.normal(shifted, 3, 0.5, 2026, 11);
        assertEquals(3 + 0.5 * v[9], shifted.toDoubles()[9], 1e-15);
    }

    @Test
    void uniformIsInUnitIntervalAndFollowsTheStream() {
        Tensor u = poisoned(N);
        ops.uniform(u, 31, 0);
        double[] v = u.toDoubles();
        double sum = 0;
        for (double e : v) {
            assertTrue(e >= 0 && e < 1, "uniform value " + e);
            sum += e;
        }
        assertEquals(0.5, sum / N, 0.01);
        assertEquals(Philox.uniform(31, 0, 4242), v[4242], 0);
        Tensor other = poisoned(8);
        ops.uniform(other, 31, 1);
        assertEquals(v[4], other.toDoubles()[0], 0, "offset counts blocks of four words");
        assertNotEquals(v[0], other.toDoubles()[0]);
    }
}
