package org.d2v.data2vec.mask;

import static org.junit.jupiter.api.Assertions.*;

import org.d2v.backend.RandomStream;
import org.junit.jupiter.api.Test;

class RandomMaskerTest {

    @Test
    void baseTextKeeps266Of512() {
        RandomMasker m = RandomMasker.base();
        assertEquals(266, m.kept(512));
        MaskBatch b = m.sample(8, 512, new RandomStream(3));
        assertEquals(246, b.masked());
    }

    @Test
    void exactCountsForManySizes() {
        RandomStream rng = new RandomStream(6);
        for (double p : new double[] {0.48, 0.42, 0.15, 0.9}) {
            for (int t : new int[] {1, 2, 5, 17, 64, 128, 333}) {
                MaskBatch b = new RandomMasker(p).sample(5, t, rng);
                assertEquals(t - (int) (t * (1 - p)), b.masked(), "p " + p + " T " + t);
            }
        }
    }

    @Test
    void everyPositionIsMaskedAboutEquallyOften() {
        int rows = 4000, tokens = 32;
        MaskBatch b = new RandomMasker(0.5).sample(rows, tokens, new RandomStream(12));
        double expected = 0.5;
        double sd = Math.sqrt(expected * (1 - expected) / rows);
        for (int t = 0; t < tokens; t++) {
            int n = 0;
            for (int r = 0; r < rows; r++) n += b.mask()[r * tokens + t];
            double frac = (double) n / rows;
            assertEquals(expected, frac, 5 * sd, "position " + t);
        }
    }

    @Test
    void rowsAreIndependent() {
        // Agreement between consecutive rows should be what independent rows give (about 50%).
        int rows = 2000, tokens = 40;
        MaskBatch b = new RandomMasker(0.5).sample(rows, tokens, new RandomStream(13));
        long agree = 0, total = 0;
        for (int r = 1; r < rows; r++) {
            for (int t = 0; t < tokens; t++) {
                if (b.mask()[r * tokens + t] == b.mask()[(r - 1) * tokens + t]) agree++;
                total++;
            }
        }
        assertEquals(0.5, (double) agree / total, 0.02);
    }

    @Test
    void sameStreamPositionGivesSameMasks() {
        RandomMasker m = RandomMasker.base();
        RandomStream a = new RandomStream(9, 400), b = new RandomStream(9, 400);
        assertArrayEquals(m.sample(4, 100, a).mask(), m.sample(4, 100, b).mask());
        assertEquals(a.position(), b.position());
    }
}
