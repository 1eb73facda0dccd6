package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.d2v.backend.Philox;
import org.d2v.backend.RandomStream;
import org.junit.jupiter.api.Test;

/** A micro-batch's stream hands out exactly its samples' part of the whole batch's draws. */
class ShareStreamTest {
    private static final long SEED = 42, START = 1000;

    @Test
    void aMicroBatchDrawsItsSamplesPartOfTheWholeBatchsNumbers() {
        int total = 6, per = 12; // per-sample elements: a multiple of 4 (uniform) and of 2 (normal)
        RandomStream whole = new RandomStream(SEED, START);
        long wu = whole.takeUniform((long) total * per), wn = whole.takeNormal((long) total * per);
        for (int[] part : new int[][] {{0, 6}, {0, 2}, {2, 3}, {5, 1}}) {
            ShareStream s = new ShareStream(SEED, START, part[0], part[1], total);
            long u = s.takeUniform((long) part[1] * per), n = s.takeNormal((long) part[1] * per);
            for (int e = 0; e < part[1] * per; e++) {
                long global = (long) part[0] * per + e;
                assertEquals(Philox.uniform(SEED, wu, global), Philox.uniform(SEED, u, e), "uniform " + e + " of part " + part[0]);
                assertEquals(Philox.normal(SEED, wn, global), Philox.normal(SEED, n, e), "normal " + e + " of part " + part[0]);
            }
            assertEquals(whole.position(), s.position(), "every part ends where the whole batch's stream does");
        }
    }

    @Test
    void unalignedDrawsNeverOverlapAcrossMicroBatches() {
        int total = 5, per = 3; // 3 uniforms per sample: not a whole Philox block
        Set<String> used = new HashSet<>();
        long end = -1;
        for (int first = 0; first < total; first += 2) {
            int count = Math.min(2, total - first);
            ShareStream s = new ShareStream(SEED, START, first, count, total);
            long at = s.takeUniform((long) count * per);
            for (int e = 0; e < count * per; e++) assertTrue(used.add((at + e / 4) + ":" + e % 4), "element " + e + " of part " + first + " reused");
            if (end >= 0) assertEquals(end, s.position());
            end = s.position();
        }
        assertEquals(total * per, used.size());
    }

    @Test
    void batchLevelDrawsAreTheSameInEveryMicroBatch() {
        ShareStream a = new ShareStream(SEED, START, 0, 2, 4), b = new ShareStream(SEED, START, 2, 2, 4);
        for (int i = 0; i < 5; i++) {
            assertEquals(a.nextUniform(), b.nextUniform(), "layerdrop's coin " + i);
            assertEquals(a.nextInt(1000), b.nextInt(1000));
        }
        assertThrows(IllegalStateException.class, () -> a.takeUniform(3), "a draw that is not per sample is refused");
    }
}
