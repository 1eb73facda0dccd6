package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Elementwise ops, reductions and GELU: forward values by hand and gradients by finite differences. */
class ReferenceElementwiseTest extends ReferenceTestBase {

    @Test
    void forwardValuesByHand() {
        Tensor a = of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = of(new double[] {-1, 0.5, 2, 0, 1, -2}, 2, 3);
        Tensor out = poisoned(2, 3);
        ops.mul(a, b, out, false);
        assertArrayEquals(new double[] {-1, 1, 6, 0, 5, -12}, out.toDoubles());
        ops.addBroadcast(a, of(new double[] {10, 20, 30}, 3), out);
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, out.toDoubles());
        Tensor s = poisoned(1);
        ops.sum(b, s);
        assertEquals(0.5, s.item());
        ops.sumSquares(a, s, false);
        assertEquals(91, s.item());
        ops.sumSquares(a, s, true);
        assertEquals(182, s.item());
    }

    @Test
    void reduceMiddleAndItsAdjoint() {
        // x [2, 3, 2]: out[i, k] = Σ_j x[i, j, k], times alpha
        Tensor x = of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 3, 2);
        Tensor out = poisoned(2, 2);
        ops.reduceMiddle(2, 3, 2, 0.5, x, out, false);
        assertArrayEquals(new double[] {4.5, 6, 13.5, 15}, out.toDoubles());
        Tensor dx = poisoned(2, 3, 2);
        ops.broadcastMiddle(2, 3, 2, 2, of(new double[] {1, 2, 3, 4}, 2, 2), dx, false);
        assertArrayEquals(new double[] {2, 4, 2, 4, 2, 4, 6, 8, 6, 8, 6, 8}, dx.toDoubles());
    }

    @Test
    void geluKnownValues() {
        Tensor x = of(new double[] {1, -0.5, 0, 3}, 4);
        Tensor y = poisoned(4);
        ops.gelu(x, y);
        double[] v = y.toDoubles();
        assertEquals(0.8413447460685429, v[0], 1e-15);
        assertEquals(-0.15426876936299344, v[1], 1e-15);
        assertEquals(0, v[2]);
        assertEquals(3 * 0.9986501019683699, v[3], 1e-14);
    }

    @Test
    void gradMul() {
        Tensor a = random(3, 5), b = random(3, 5), out = zeros(3, 5);
        Tensor da = zeros(3, 5), db = zeros(3, 5);
        double[] w = weights(out);
        GradCheck.of(grads -> {
            ops.mul(a, b, out, false);
            if (grads) {
                Tensor dout = of(w, 3, 5);
                ops.mul(dout, b, da, true);
                ops.mul(dout, a, db, true);
            }
            return GradCheck.dot(out, w);
        }).wrt("a", a, da).wrt("b", b, db).check();
    }

    @Test
    void gradAddBroadcast() {
        Tensor x = random(7, 3), v = random(3), out = zeros(7, 3);
        Tensor dx = zeros(7, 3), dv = zeros(3);
        double[] w = weights(out);
        GradCheck.of(grads -> {
            ops.addBroadcast(x, v, out);
            if (grads) {
                Tensor dout = of(w, 7, 3);
                ops.copy(dout, dx);
                ops.reduceMiddle(1, 7, 3, 1, dout, dv, true);
            }
            return GradCheck.dot(out, w);
        }).wrt("x", x, dx).wrt("v", v, dv).check();
    }

    @Test
    void gradReduceMiddleAndBroadcastMiddle() {
        Tensor x = random(3, 5, 2), out = zeros(3, 2), dx = zeros(3, 5, 2);
        double[] w = weights(out);
        GradCheck.of(grads -> {
            ops.reduceMiddle(3, 5, 2, 0.2, x, out, false);
            if (grads) ops.broadcastMiddle(3, 5, 2, 0.2, of(w, 3, 2), dx, true);
            return GradCheck.dot(out, w);
        }).wrt("x", x, dx).check();
        Tensor g = random(3, 2), big = zeros(3, 5, 2), dg = zeros(3, 2);
        double[] w2 = weights(big);
        GradCheck.of(grads -> {
            ops.broadcastMiddle(3, 5, 2, 1.5, g, big, false);
            if (grads) ops.reduceMiddle(3, 5, 2, 1.5, of(w2, 3, 5, 2), dg, true);
            return GradCheck.dot(big, w2);
        }).wrt("dout", g, dg).check();
    }

    @Test
    void gradGelu() {
        Tensor x = of(rand.uniform(13, -3, 3), 13), y = zeros(13), dx = zeros(13);
        double[] w = weights(y);
        GradCheck.of(grads -> {
            ops.gelu(x, y);
            if (grads) ops.geluBackward(x, of(w, 13), dx, false);
            return GradCheck.dot(y, w);
        }).wrt("x", x, dx).check();
    }

    @Test
    void sizeMismatchIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.mul(zeros(3), zeros(4), zeros(3), false));
        assertTrue(e.getMessage().contains("mul"), e.getMessage());
    }
}
