package org.d2v.data.batch;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The prefetching loader over plans: order independent of thread timing, bounded, no thread left behind; fairseq's length buckets. */
class StreamingTest {
    private static long prefetchThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("d2v-batch-prefetch") && t.isAlive()).count();
    }

    @Test
    void orderAndContentDoNotDependOnThreadTiming() {
        BatchPlan plan = BatchPlan.shuffled(50, 5, 3);
        List<String> fast = new ArrayList<>(), slow = new ArrayList<>();
        java.util.Random jitter = new java.util.Random();
        try (BatchLoader<String> a = new BatchLoader<>(plan, 3, 0, 4, (idx, rng) -> Arrays.toString(idx) + rng.nextUniform());
             BatchLoader<String> b = new BatchLoader<>(plan, 3, 0, 1, (idx, rng) -> {
                 Thread.sleep(jitter.nextInt(3));
                 return Arrays.toString(idx) + rng.nextUniform();
             })) {
            for (int i = 0; i < 25; i++) {
                fast.add(a.next());
                slow.add(b.next());
                if (i % 7 == 0) Thread.onSpinWait();
            }
            assertTrue(b.waitNanos() > 0);
        }
        assertEquals(fast, slow);
    }

    @Test
    void closingStopsThePrefetchThread() throws Exception {
        long before = prefetchThreads();
        List<BatchLoader<int[]>> loaders = new ArrayList<>();
        for (int i = 0; i < 5; i++) loaders.add(new BatchLoader<>(BatchPlan.shuffled(10, 2, i), i, 0, 2, (idx, rng) -> idx));
        for (BatchLoader<int[]> l : loaders) l.next();
        assertTrue(prefetchThreads() >= before + 5);
        for (BatchLoader<int[]> l : loaders) l.close();
        assertEquals(before, prefetchThreads(), "no prefetch thread outlives its loader");
    }

    @Test
    void lengthBucketsRespectMaxTokensAndVisitEveryExampleOncePerEpoch() {
        java.util.Random r = new java.util.Random(2);
        long[] len = new long[300];
        for (int i = 0; i < len.length; i++) len[i] = 2000 + r.nextInt(30000);
        long maxTokens = 100_000;
        LengthBuckets plan = new LengthBuckets(len, maxTokens, 7);
        int maxCount = 0, minCount = Integer.MAX_VALUE;
        for (int[] b : plan.all()) {
            long longest = Arrays.stream(b).mapToLong(i -> len[i]).max().getAsLong();
            assertTrue(longest * b.length <= maxTokens, "a batch holds at most max_tokens samples");
            maxCount = Math.max(maxCount, b.length);
            minCount = Math.min(minCount, b.length);
        }
        assertTrue(maxCount > 2 * minCount, "short clips come many to a batch, long ones few: " + minCount + ".." + maxCount);
        for (long epoch : new long[] {0, 1}) {
            Set<Integer> seen = new HashSet<>();
            for (int k = 0; k < plan.batchesPerEpoch(); k++) for (int i : plan.batch(epoch, k)) assertTrue(seen.add(i));
            assertEquals(len.length, seen.size());
        }
        assertFalse(Arrays.equals(plan.batch(0, 0), plan.batch(1, 0)) && Arrays.equals(plan.batch(0, 1), plan.batch(1, 1)), "epochs visit the batches in new orders");
        assertArrayEquals(plan.batch(3, 5), new LengthBuckets(len, maxTokens, 7).batch(3, 5), "fixed by the seed");
        assertThrows(IllegalArgumentException.class, () -> new LengthBuckets(new long[] {5, 200_000}, maxTokens, 1));
    }
}
