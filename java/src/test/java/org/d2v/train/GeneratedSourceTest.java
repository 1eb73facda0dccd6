package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import org.d2v.data2vec.Batch;
import org.junit.jupiter.api.Test;

class GeneratedSourceTest {

    @Test
    void seekReplaysTheSameBatches() {
        for (GeneratedSource s : new GeneratedSource[] {GeneratedSource.images(2, 8, 3, 5), GeneratedSource.audio(2, 400, 5),
                GeneratedSource.text(3, 16, 50, 5)}) {
            Batch b0 = s.next(), b1 = s.next(), b2 = s.next();
            int batch = b0.size();
            assertEquals(3L * batch, s.position(), "positions count samples");
            s.seek(batch);
            assertEquals(content(b1), content(s.next()), s.describe());
            assertEquals(content(b2), content(s.next()), s.describe());
            assertNotEquals(content(b0), content(b1), s.describe());
        }
    }

    @Test
    void shapesAndRanges() {
        Batch.Images img = (Batch.Images) GeneratedSource.images(3, 28, 1, 1).next();
        assertEquals(3, img.size());
        assertEquals(28, img.height());
        double max = 0;
        for (float v : img.pixels()) max = Math.max(max, Math.abs(v));
        assertTrue(max > 0.05 && max < 3, "pixel range " + max);

        Batch.Audio audio = (Batch.Audio) GeneratedSource.audio(2, 16000, 1).next();
        assertEquals(32000, audio.waves().length);

        Batch.Text text = (Batch.Text) GeneratedSource.text(4, 64, 100, 1).next();
        for (int i = 0; i < text.tokens().length; i++) {
            int id = text.tokens()[i];
            if (i % 64 == 0) assertEquals(0, id);
            else assertTrue(id >= 4 && id < 100, "id " + id);
        }
    }

    @Test
    void seedsGiveDifferentData() {
        assertNotEquals(content(GeneratedSource.text(2, 32, 100, 1).next()), content(GeneratedSource.text(2, 32, 100, 2).next()));
    }

    private static String content(Batch b) {
        if (b instanceof Batch.Images i) return java.util.Arrays.toString(i.pixels());
        if (b instanceof Batch.Audio a) return java.util.Arrays.toString(a.waves());
        return java.util.Arrays.toString(((Batch.Text) b).tokens());
    }
}
