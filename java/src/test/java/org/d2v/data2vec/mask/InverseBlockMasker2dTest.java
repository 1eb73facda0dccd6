package org.d2v.data2vec.mask;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.d2v.backend.RandomStream;
import org.junit.jupiter.api.Test;

class InverseBlockMasker2dTest {

    @Test
    void baseImageConfigurationHasFiveCentresAnd39Visible() {
        InverseBlockMasker2d m = InverseBlockMasker2d.base(14, 14);
        assertEquals(5, m.centres());
        assertEquals(39, m.visible());
        MaskBatch b = m.sample(64, 196, new RandomStream(7));
        assertEquals(157, b.masked());
        assertEquals(39, b.kept());
        for (int r = 0; r < 64; r++) {
            int visible = 0;
            for (int t = 0; t < 196; t++) visible += 1 - b.mask()[r * 196 + t];
            assertEquals(39, visible, "row " + r);
        }
    }

    @Test
    void largeConfigurationHasSevenCentresAnd49Visible() {
        InverseBlockMasker2d m = new InverseBlockMasker2d(14, 14, 0.75, 0.1, 3);
        assertEquals(7, m.centres());
        assertEquals(49, m.visible());
        assertEquals(147, m.sample(3, 196, new RandomStream(1)).masked());
    }

    @Test
    void exactCountsForManyDrawsAndGridSizes() {
        RandomStream rng = new RandomStream(11);
        int[][] grids = {{14, 14}, {4, 4}, {8, 8}, {2, 2}, {5, 9}, {16, 16}, {1, 7}};
        double[] probs = {0.8, 0.6, 0.5, 0.9};
        for (int[] g : grids) {
            for (double p : probs) {
                for (int width : new int[] {1, 2, 3, 4}) {
                    InverseBlockMasker2d m = new InverseBlockMasker2d(g[0], g[1], p, 0.07, width);
                    int l = g[0] * g[1];
                    int expectedVisible = (int) (l * (1 - p));
                    MaskBatch b = m.sample(9, l, rng); // MaskBatch itself rejects unequal rows
                    assertEquals(l - expectedVisible, b.masked(), "grid " + Arrays.toString(g) + " p " + p + " B " + width);
                }
            }
        }
    }

    @Test
    void oneCentreMarksAClampedThreeByThreeSquare() {
        InverseBlockMasker2d m = InverseBlockMasker2d.base(6, 7);
        for (int seed = 0; seed < 200; seed++) {
            RandomStream probe = new RandomStream(seed);
            int centre = probe.nextInt(42); // the centre the masker will draw from the same stream
            int[] marks = new int[42];
            m.markBlocks(marks, 0, 1, new RandomStream(seed));
            int cy = centre / 7, cx = centre % 7;
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 7; x++) {
                    boolean inside = Math.abs(y - cy) <= 1 && Math.abs(x - cx) <= 1;
                    assertEquals(inside ? 1 : 0, marks[y * 7 + x], "seed " + seed + " centre " + cy + "," + cx + " at " + y + "," + x);
                }
            }
        }
    }

    @Test
    void evenBlockWidthUsesOffsetsFromMinusHalf() {
        // B = 4: offsets -2..+1, as the reference's range(B) - B//2.
        InverseBlockMasker2d m = new InverseBlockMasker2d(10, 10, 0.5, 0, 4);
        int seed = 0;
        int centre;
        do centre = new RandomStream(++seed).nextInt(100); while (centre != 55);
        int[] marks = new int[100];
        m.markBlocks(marks, 0, 1, new RandomStream(seed));
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 10; x++) {
                boolean inside = y >= 3 && y <= 6 && x >= 3 && x <= 6;
                assertEquals(inside ? 1 : 0, marks[y * 10 + x], "at " + y + "," + x);
            }
        }
    }

    @Test
    void sameStreamPositionGivesSameMasks() {
        InverseBlockMasker2d m = InverseBlockMasker2d.base(14, 14);
        RandomStream a = new RandomStream(5, 1234);
        RandomStream b = new RandomStream(5, 1234);
        assertArrayEquals(m.sample(16, 196, a).mask(), m.sample(16, 196, b).mask());
        assertEquals(a.position(), b.position());
        assertFalse(Arrays.equals(m.sample(16, 196, a).mask(), m.sample(16, 196, new RandomStream(5, 0)).mask()));
    }

    @Test
    void rowsDiffer() {
        MaskBatch b = InverseBlockMasker2d.base(14, 14).sample(32, 196, new RandomStream(3));
        for (int r = 1; r < 32; r++) {
            assertFalse(Arrays.equals(Arrays.copyOfRange(b.mask(), 0, 196), Arrays.copyOfRange(b.mask(), r * 196, (r + 1) * 196)), "row " + r + " equals row 0");
        }
    }

    @Test
    void visiblePatchesClusterInBlocks() {
        // Inverse block masking keeps visible patches together: a visible patch has far more visible
        // 4-neighbours than the 20% a uniform mask would give.
        MaskBatch b = InverseBlockMasker2d.base(14, 14).sample(200, 196, new RandomStream(9));
        long pairs = 0, both = 0;
        for (int r = 0; r < 200; r++) {
            for (int y = 0; y < 14; y++) {
                for (int x = 0; x + 1 < 14; x++) {
                    int a = b.mask()[r * 196 + y * 14 + x], c = b.mask()[r * 196 + y * 14 + x + 1];
                    if (a == 0) { pairs++; if (c == 0) both++; }
                }
            }
        }
        double neighbourVisible = (double) both / pairs;
        assertTrue(neighbourVisible > 0.4, "visible right-neighbour fraction " + neighbourVisible);
    }

    @Test
    void rejectsWrongTokenCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InverseBlockMasker2d.base(14, 14).sample(1, 195, new RandomStream(0)));
        assertTrue(e.getMessage().contains("195"));
    }
}
