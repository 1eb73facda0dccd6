package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.d2v.backend.LossDesc;
import org.d2v.testing.Approx;
import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The masked regression loss and softmax cross-entropy: hand examples and gradients. */
class ReferenceLossTest extends ReferenceTestBase {

    @Test
    void maskedRegressionByHand() {
        // 2 samples × 2 clones, 2 tokens, dim 2; row r reads target r / 2.
        Tensor target = of(new double[] {1, 1, 0, 2, 3, 0, 1, 1}, 2, 2, 2);
        Tensor pred = of(new double[] {2, 1, 0, 0, 1, 3, 1, 2, 3, 1, 0, 0, 5, 5, 1, -1}, 4, 2, 2);
        Tensor mask = ints(new int[] {1, 0, 0, 1, 1, 1, 0, 0}, 4, 2);
        Tensor loss = poisoned(1), dpred = poisoned(4, 2, 2);
        // masked squared errors: row 0 token 0: 1; row 1 token 1: 1; row 2 token 0: 1, token 1: 2. Σ = 5.
        ops.maskedRegression(new LossDesc(4, 2, 2, 2, 0.5, 4), pred, target, mask, loss, dpred, 2);
        assertEquals(0.5 * 5 / 4, loss.item(), 1e-15);
        // dpred = gradScale · scale · 2 · (pred − target) / normalizer = 0.5 · diff at masked slots
        Approx.assertClose(new double[] {0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 0.5, -0.5, -0.5, 0, 0, 0, 0},
                dpred.toDoubles(), 1e-15, "dpred");
        ops.maskedRegression(new LossDesc(4, 2, 2, 2, 0.5, 4), pred, target, mask, loss, null, 2);
        assertEquals(0.625, loss.item(), 1e-15);
    }

    @Test
    void gradMaskedRegression() {
        int rows = 6, tokens = 5, dim = 3, clones = 3;
        LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.7, 11);
        Tensor pred = random(rows, tokens, dim), target = random(rows / clones, tokens, dim);
        Tensor mask = rand.ints(dev, 2, rows, tokens), loss = zeros(1), dpred = zeros(rows, tokens, dim);
        GradCheck.of(grads -> {
            ops.maskedRegression(d, pred, target, mask, loss, grads ? dpred : null, 1);
            return loss.item();
        }).wrt("pred", pred, dpred).check();
    }

    @Test
    void crossEntropyByHand() {
        Tensor logits = of(new double[] {1, 2, 0, 0}, 2, 2);
        Tensor loss = poisoned(1), dlogits = poisoned(2, 2);
        ops.crossEntropy(logits, ints(new int[] {1, 0}, 2), loss, dlogits, 3);
        double row0 = Math.log1p(Math.exp(-1)), row1 = Math.log(2);
        assertEquals((row0 + row1) / 2, loss.item(), 1e-15);
        double s = 1 / (1 + Math.E); // softmax of the lower logit in row 0
        Approx.assertClose(new double[] {3 * s / 2, 3 * -s / 2, 3 * -0.5 / 2, 3 * 0.5 / 2}, dlogits.toDoubles(), 1e-15, "dlogits");
        assertThrows(IllegalArgumentException.class, () -> ops.crossEntropy(logits, ints(new int[] {2, 0}, 2), loss, null, 1));
    }

    @Test
    void gradCrossEntropy() {
        Tensor logits = of(rand.uniform(21, -3, 3), 7, 3), labels = rand.ints(dev, 3, 7);
        Tensor loss = zeros(1), dlogits = zeros(7, 3);
        GradCheck.of(grads -> {
            ops.crossEntropy(logits, labels, loss, grads ? dlogits : null, 1);
            return loss.item();
        }).wrt("logits", logits, dlogits).check();
    }
}
