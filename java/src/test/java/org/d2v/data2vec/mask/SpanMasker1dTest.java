package org.d2v.data2vec.mask;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.d2v.backend.RandomStream;
import org.junit.jupiter.api.Test;

class SpanMasker1dTest {

    @Test
    void baseAudioCountsFor999Frames() {
        SpanMasker1d m = SpanMasker1d.base();
        assertEquals(109, m.centres(999));
        assertEquals(500, m.masked(999)); // round(499.5), documented deviation from the reference's int
        assertEquals(500, m.masked(1000));
        MaskBatch b = m.sample(8, 999, new RandomStream(2));
        assertEquals(500, b.masked());
    }

    @Test
    void exactCountsForManyLengths() {
        RandomStream rng = new RandomStream(4);
        for (double p : new double[] {0.5, 0.3, 0.65}) {
            for (int span : new int[] {1, 2, 5, 10}) {
                SpanMasker1d m = new SpanMasker1d(p, 0.05, span);
                for (int t : new int[] {1, 2, 3, 7, 49, 50, 99, 250, 401}) {
                    MaskBatch b = m.sample(6, t, rng);
                    assertEquals(Math.round(p * t), b.masked(), "p " + p + " span " + span + " T " + t);
                }
            }
        }
    }

    @Test
    void masksComeInSpans() {
        // Span masking: a masked frame's right neighbour is masked far more often than 50%.
        MaskBatch b = SpanMasker1d.base().sample(64, 300, new RandomStream(8));
        long masked = 0, runs = 0;
        for (int r = 0; r < 64; r++) {
            for (int t = 0; t + 1 < 300; t++) {
                if (b.mask()[r * 300 + t] == 1) {
                    masked++;
                    if (b.mask()[r * 300 + t + 1] == 1) runs++;
                }
            }
        }
        assertTrue((double) runs / masked > 0.7, "masked right-neighbour fraction " + (double) runs / masked);
    }

    @Test
    void sameStreamPositionGivesSameMasksAndRowsDiffer() {
        SpanMasker1d m = SpanMasker1d.base();
        MaskBatch a = m.sample(8, 200, new RandomStream(1, 77));
        assertArrayEquals(a.mask(), m.sample(8, 200, new RandomStream(1, 77)).mask());
        for (int r = 1; r < 8; r++) {
            assertFalse(Arrays.equals(Arrays.copyOfRange(a.mask(), 0, 200), Arrays.copyOfRange(a.mask(), r * 200, r * 200 + 200)));
        }
    }
}
