package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import org.d2v.data.image.Images;
import org.d2v.data2vec.Batch;
import org.junit.jupiter.api.Test;

class ImageBatchesTest {
    /** 10 images 2x3, image n filled with the value n (so a batch tells which images it holds). */
    private static Images numbered() {
        float[] px = new float[10 * 6];
        for (int i = 0; i < px.length; i++) px[i] = i / 6;
        return new Images(10, 2, 3, 1, px);
    }

    @Test
    void anEpochServesEveryImageOnceAndSeekReplaysExactly() {
        try (ImageBatches b = new ImageBatches(numbered(), 5, 7, false)) {
            Set<Float> seen = new HashSet<>();
            for (int k = 0; k < 2; k++) {
                Batch.Images x = (Batch.Images) b.next();
                for (int i = 0; i < 5; i++) seen.add(x.pixels()[i * 6]);
            }
            assertEquals(10, seen.size());
            Batch.Images third = (Batch.Images) b.next();
            b.seek(2);
            assertArrayEquals(third.pixels(), ((Batch.Images) b.next()).pixels());
            assertEquals(3, b.position());
        }
    }

    @Test
    void flipsMirrorRowsOnly() {
        float[] px = {1, 2, 3, 4, 5, 6};
        boolean flipped = false;
        try (ImageBatches b = new ImageBatches(new Images(1, 2, 3, 1, px), 1, 3, true)) {
            for (int k = 0; k < 20; k++) {
                float[] x = ((Batch.Images) b.next()).pixels();
                if (x[0] == 3) {
                    assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4}, x);
                    flipped = true;
                } else {
                    assertArrayEquals(px, x);
                }
            }
        }
        assertEquals(true, flipped);
        assertThrows(IllegalArgumentException.class, () -> new ImageBatches(numbered(), 11, 1, false));
    }
}
