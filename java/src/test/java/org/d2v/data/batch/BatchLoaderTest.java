package org.d2v.data.batch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class BatchLoaderTest {
    /** A batch that records its indices and one number drawn from its RandomStream (as an augmentation would). */
    record Batch(int[] indices, double noise) {
        @Override public boolean equals(Object o) {
            return o instanceof Batch b && Arrays.equals(indices, b.indices) && noise == b.noise;
        }

        @Override public int hashCode() { return Arrays.hashCode(indices); }
    }

    static BatchLoader<Batch> loader(long seed, DataPosition at) {
        return new BatchLoader<>(103, 10, seed, at, 3, (idx, rng) -> new Batch(idx, rng.nextUniform()));
    }

    @Test
    void savedPositionResumesTheExactSameNextBatch() {
        List<Batch> straight = new ArrayList<>();
        DataPosition saved;
        try (BatchLoader<Batch> a = loader(5, DataPosition.START)) {
            for (int i = 0; i < 13; i++) a.next(); // crosses the first epoch boundary (10 batches per epoch)
            saved = a.position();
            for (int i = 0; i < 4; i++) straight.add(a.next());
        }
        assertEquals(new DataPosition(1, 30), saved);
        DataPosition restored = DataPosition.parse(saved.toString());
        try (BatchLoader<Batch> b = loader(5, restored)) {
            for (int i = 0; i < 4; i++) assertEquals(straight.get(i), b.next(), "batch " + i + " after resume");
        }
    }

    @Test
    void eachEpochIsAPermutationAndEpochsDiffer() {
        try (BatchLoader<Batch> l = loader(9, DataPosition.START)) {
            assertEquals(10, l.batchesPerEpoch());
            List<Integer> e0 = new ArrayList<>(), e1 = new ArrayList<>();
            for (int i = 0; i < 10; i++) for (int x : l.next().indices()) e0.add(x);
            for (int i = 0; i < 10; i++) for (int x : l.next().indices()) e1.add(x);
            assertEquals(100, new HashSet<>(e0).size(), "no index twice within an epoch");
            assertTrue(e0.stream().allMatch(x -> x >= 0 && x < 103));
            assertNotEquals(e0, e1);
        }
        assertArrayEquals(BatchLoader.permutation(9, 4, 50), BatchLoader.permutation(9, 4, 50));
        assertFalse(Arrays.equals(BatchLoader.permutation(9, 4, 50), BatchLoader.permutation(10, 4, 50)));
    }

    @Test
    void differentBatchesGetDifferentRandomStreams() {
        Set<Double> noise = new HashSet<>();
        try (BatchLoader<Batch> l = loader(1, DataPosition.START)) {
            for (int i = 0; i < 20; i++) noise.add(l.next().noise());
        }
        assertEquals(20, noise.size());
    }

    @Test
    void assemblerErrorsReachTheCaller() {
        try (BatchLoader<int[]> l = new BatchLoader<>(20, 5, 1, DataPosition.START, 2, (idx, rng) -> {
            if (idx.length > 0) throw new java.io.IOException("disk says no");
            return idx;
        })) {
            org.d2v.data.DataLoadException e = assertThrows(org.d2v.data.DataLoadException.class, l::next);
            assertTrue(e.getMessage().contains("disk says no") && e.getMessage().contains("batch 0"), e.getMessage());
            assertThrows(org.d2v.data.DataLoadException.class, l::next, "the failure stays, the caller never blocks");
        }
        try (BatchLoader<int[]> l = new BatchLoader<>(20, 5, 1, DataPosition.START, 2, (idx, rng) -> {
            throw new ArithmeticException("a bug");
        })) {
            IllegalStateException e = assertThrows(IllegalStateException.class, l::next);
            assertTrue(e.getMessage().contains("a bug"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> loader(1, new DataPosition(0, 5)));
    }
}
