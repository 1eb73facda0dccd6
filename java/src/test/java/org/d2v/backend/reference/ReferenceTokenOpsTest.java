package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Embedding, row gather/scatter and multi-mask repeats. */
class ReferenceTokenOpsTest extends ReferenceTestBase {

    @Test
    void embeddingLooksUpRows() {
        Tensor table = of(new double[] {0, 1, 10, 11, 20, 21}, 3, 2);
        Tensor out = poisoned(4, 2);
        ops.embedding(ints(new int[] {2, 0, 2, 1}, 4), table, out);
        assertArrayEquals(new double[] {20, 21, 0, 1, 20, 21, 10, 11}, out.toDoubles());
    }

    @Test
    void badEmbeddingIdThrowsWithIdAndVocabSize() {
        Tensor table = zeros(5, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.embedding(ints(new int[] {1, 7}, 2), table, zeros(2, 2)));
        assertTrue(e.getMessage().contains("7") && e.getMessage().contains("5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ops.embedding(ints(new int[] {-1}, 1), table, zeros(1, 2)));
        assertTrue(e.getMessage().contains("-1") && e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void gradEmbedding() {
        int[] ids = {3, 1, 3, 0, 4, 3, 2};
        Tensor table = random(6, 5), out = zeros(7, 5), dtable = zeros(6, 5);
        Tensor idT = ints(ids, 7);
        double[] w = weights(out);
        GradCheck.of(grads -> {
            ops.embedding(idT, table, out);
            if (grads) ops.embeddingBackward(idT, of(w, 7, 5), dtable);
            return GradCheck.dot(out, w);
        }).wrt("table", table, dtable).check();
        assertTrue(dtable.toDoubles()[5 * 5] == 0, "row 5 is never used, so it gets no gradient");
    }

    @Test
    void gatherAndScatterByHand() {
        // src [2, 3, 2], keep tokens (2, 0) of sample 0 and (1, 2) of sample 1
        Tensor src = of(new double[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 3, 2);
        Tensor idx = ints(new int[] {2, 0, 1, 2}, 2, 2);
        Tensor kept = poisoned(2, 2, 2);
        ops.gatherRows(src, idx, kept);
        assertArrayEquals(new double[] {4, 5, 0, 1, 8, 9, 10, 11}, kept.toDoubles());
        Tensor full = of(new double[] {-1, -1, -1, -1, -1, -1, -2, -2, -2, -2, -2, -2}, 2, 3, 2);
        ops.scatterRows(kept, idx, full, false);
        // rows not named by idx keep what was there
        assertArrayEquals(new double[] {0, 1, -1, -1, 4, 5, -2, -2, 8, 9, 10, 11}, full.toDoubles());
        ops.scatterRows(kept, idx, full, true);
        assertArrayEquals(new double[] {0, 2, -1, -1, 8, 10, -2, -2, 16, 18, 20, 22}, full.toDoubles());
        assertThrows(IllegalArgumentException.class, () -> ops.gatherRows(src, ints(new int[] {3, 0, 0, 0}, 2, 2), kept));
    }

    @Test
    void gradGatherAndScatter() {
        Tensor src = random(3, 5, 4), idx = ints(new int[] {4, 0, 2, 1, 3, 0, 2, 2, 4}, 3, 3);
        Tensor dst = zeros(3, 3, 4), dsrc = zeros(3, 5, 4);
        double[] w = weights(dst);
        GradCheck.of(grads -> {
            ops.gatherRows(src, idx, dst);
            if (grads) ops.scatterRows(of(w, 3, 3, 4), idx, dsrc, true);
            return GradCheck.dot(dst, w);
        }).wrt("src", src, dsrc).check();

        Tensor small = random(3, 2, 4), big = zeros(3, 5, 4), dsmall = zeros(3, 2, 4);
        Tensor idx2 = ints(new int[] {1, 3, 0, 4, 2, 1}, 3, 2);
        double[] w2 = weights(big);
        GradCheck.of(grads -> {
            ops.fill(big, 0.25);
            ops.scatterRows(small, idx2, big, false);
            if (grads) ops.gatherRows(of(w2, 3, 5, 4), idx2, dsmall);
            return GradCheck.dot(big, w2);
        }).wrt("src", small, dsmall).check();
    }

    @Test
    void gradRepeatRowsAndSumRepeats() {
        Tensor x = random(3, 2, 5), out = zeros(9, 2, 5), dx = zeros(3, 2, 5);
        double[] w = weights(out);
        GradCheck.of(grads -> {
            ops.repeatRows(x, 3, out);
            if (grads) ops.sumRepeats(of(w, 9, 2, 5), 3, dx, true);
            return GradCheck.dot(out, w);
        }).wrt("x", x, dx).check();
        double[] o = out.toDoubles(), xs = x.toDoubles();
        for (int c = 0; c < 3; c++) {
            for (int j = 0; j < 10; j++) assertTrue(o[(1 * 3 + c) * 10 + j] == xs[10 + j], "clone " + c + " of sample 1");
        }
    }
}
