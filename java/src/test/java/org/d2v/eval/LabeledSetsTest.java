package org.d2v.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.LabeledImages;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data2vec.Batch;
import org.junit.jupiter.api.Test;

/** The labeled sets batch every example exactly once, in groups of one shape, without padding. */
class LabeledSetsTest {
    @Test
    void lengthGroupsCoverEveryIndexOnceWithEqualLengthsAndTheCap() {
        int[] lengths = {5, 3, 5, 5, 3, 7, 5, 5, 5};
        int[] which = {8, 0, 1, 2, 3, 4, 5, 6, 7};
        List<int[]> groups = LengthGroups.of(which, i -> lengths[i], 3);
        Set<Integer> seen = new HashSet<>();
        int last = -1;
        for (int[] g : groups) {
            assertTrue(g.length >= 1 && g.length <= 3, "group of " + g.length);
            for (int i : g) {
                assertEquals(lengths[g[0]], lengths[i], "mixed lengths in a group");
                assertTrue(seen.add(i), "index " + i + " twice");
            }
            assertTrue(lengths[g[0]] >= last, "groups come shortest first");
            last = lengths[g[0]];
        }
        assertEquals(which.length, seen.size());
        // Equal lengths keep the callers' order: 8 was given before 0, 2 and 3.
        assertArrayEquals(new int[] {8, 0, 2}, groups.get(1));
        assertThrows(IllegalArgumentException.class, () -> LengthGroups.of(which, i -> 1, 0));
    }

    @Test
    void speechGroupsHoldTheExactSamplesOfClipsOfOneLength() {
        List<float[]> waves = new ArrayList<>();
        int[] n = {400, 300, 400, 500};
        for (int k = 0; k < n.length; k++) {
            float[] w = new float[n[k]];
            for (int i = 0; i < w.length; i++) w[i] = k + i * 1e-3f;
            waves.add(w);
        }
        SpeechSet set = new SpeechSet(waves, new int[] {0, 1, 0, 1}, 2, "clips");
        List<LabeledSet.Group> groups = set.groups(set.all(), 10);
        assertEquals(3, groups.size());
        LabeledSet.Group two = groups.get(1);
        assertArrayEquals(new int[] {0, 2}, two.examples());
        Batch.Audio b = (Batch.Audio) two.batch();
        assertEquals(400, b.samples());
        assertEquals(waves.get(2)[7], b.waves()[400 + 7]);
        assertEquals("4 clips", set.describe());
        SpeechSet sub = set.subset(new int[] {3, 1});
        assertArrayEquals(new int[] {1, 1}, sub.labels());
        assertEquals(500, sub.waves().get(0).length);
    }

    @Test
    void textsStartWithBosAndAreCutToTheModelsLength() {
        List<String> texts = List.of("good food", "a very very long sentence that goes on and on", "bad");
        BpeTokenizer bpe = BpeTokenizer.train(texts, 300);
        TextSet set = TextSet.of(texts, new int[] {1, 0, 0}, 2, bpe, 8, "sentences");
        for (int[] t : set.tokens()) assertEquals(BpeTokenizer.BOS, t[0]);
        assertEquals(8, set.tokens().get(1).length);
        assertEquals(1 + bpe.encode("bad").length, set.tokens().get(2).length);
        int covered = 0;
        for (LabeledSet.Group g : set.groups(set.all(), 2)) {
            Batch.Text b = (Batch.Text) g.batch();
            for (int i = 0; i < g.examples().length; i++) {
                int[] row = java.util.Arrays.copyOfRange(b.tokens(), i * b.length(), (i + 1) * b.length());
                assertArrayEquals(set.tokens().get(g.examples()[i]), row);
                covered++;
            }
        }
        assertEquals(3, covered);
        assertThrows(IllegalArgumentException.class, () -> TextSet.of(texts, new int[] {1, 0, 0}, 2, bpe, 1, "x"));
    }

    @Test
    void headAndSpreadPickTheDocumentedExamples() throws Exception {
        LabeledImages imgs = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        ImageSet set = new ImageSet(imgs);
        LabeledSet head = set.head(10), spread = set.spread(4);
        assertEquals(10, head.size());
        assertEquals(imgs.labels()[9], head.labels()[9]);
        assertEquals(4, spread.size());
        for (int i = 0; i < 4; i++) assertEquals(imgs.labels()[i * 50], spread.labels()[i]);
        assertEquals(set, set.head(500));
        List<LabeledSet.Group> g = set.groups(set.all(), 64);
        assertEquals(4, g.size());
        assertEquals(200 - 3 * 64, g.get(3).examples().length);
        Batch.Images b = (Batch.Images) g.get(1).batch();
        assertEquals(imgs.images().pixel(64 + 5, 10, 11, 0), b.pixels()[(5 * 28 + 10) * 28 + 11]);
    }
}
