package org.d2v.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backward of a sum hands its output's gradient to one input instead of copying it
 * ({@link Tensor#passGradTo}); these check when it may and may not, and that the gradients stay
 * right when the handed-over buffer is accumulated into afterwards.
 */
class GradHandOverTest {
    private ReferenceDevice dev;
    private Scope scope;

    @BeforeEach
    void open() {
        dev = new ReferenceDevice(DType.F64);
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
        dev.close();
    }

    private Tensor leaf(double... v) {
        return Tensor.of(dev, DType.F64, Shape.of(v.length), v).setRequiresGrad(true);
    }

    @Test
    void aResidualSumHandsItsGradientToOneInputAndCopiesItForTheOther() {
        Tensor x = leaf(1, 2, 3), w = leaf(0.5, -1, 2);
        Tensor gradOfY;
        try (Tape tape = Tape.record()) {
            Tensor h = F.mul(x, w);              // h's gradient is written by the sum's backward ...
            Tensor y = F.add(x, h);              // ... and x's too, before mul's backward adds more
            Tensor loss = F.sum(F.mul(y, y));
            tape.backward(loss);
            gradOfY = y.grad();
            assertSame(gradOfY, x.grad(), "x took y's gradient buffer");
            assertNotSame(gradOfY, h.grad(), "h got a copy: one buffer goes to one input only");
        }
        // y = x + x·w, loss = Σ y²: dL/dx = 2y(1 + w), dL/dw = 2y·x
        double[] y = {1 + 0.5, 2 - 2, 3 + 6};
        assertArrayEquals(new double[] {2 * y[0] * 1.5, 2 * y[1] * 0, 2 * y[2] * 3}, x.grad().toDoubles(), 1e-12);
        assertArrayEquals(new double[] {2 * y[0] * 1, 2 * y[1] * 2, 2 * y[2] * 3}, w.grad().toDoubles(), 1e-12);
    }

    @Test
    void aSumOfATensorWithItselfDoublesTheGradient() {
        Tensor x = leaf(1, -2);
        try (Tape tape = Tape.record()) {
            tape.backward(F.sum(F.mul(F.add(x, x), leaf(3, 4))));
        }
        assertArrayEquals(new double[] {6, 8}, x.grad().toDoubles(), 1e-12);
    }

    @Test
    void aGradientSetFromOutsideIsNeverHandedOn() {
        Tensor y = leaf(1, 2), x = leaf(0, 0), owner = Tensor.zeros(dev, DType.F64, 2);
        y.setGrad(owner);                        // a parameter's view into the flat buffer, say
        assertFalse(y.passGradTo(x));
        y.setGrad(null);
        y.gradOrEmpty();
        assertTrue(y.passGradTo(x), "a gradient y allocated itself may be handed on");
        assertFalse(y.passGradTo(leaf(0, 0)), "but only once");
        assertFalse(leaf(1, 2).passGradTo(leaf(1, 2, 3)), "no gradient yet, and the sizes differ");
    }
}
