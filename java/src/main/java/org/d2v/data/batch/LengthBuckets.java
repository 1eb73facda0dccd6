package org.d2v.data.batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * fairseq's batching by size for raw audio ({@code max_tokens}): examples are sorted by length
 * (longest first; equal lengths in a seeded random order), then cut greedily into batches whose
 * longest example times their count stays within {@code maxTokens}, so a batch holds a few long
 * clips or many short ones. The batches are fixed by the seed; each epoch visits them in a fresh
 * seeded order (fairseq shuffles its frozen batches per epoch the same way).
 */
public final class LengthBuckets implements BatchPlan {
    private final List<int[]> batches;
    private final long seed;
    private long cachedEpoch = -1;
    private int[] order;

    /**
     * @param lengths   the (already capped) length of every example that may be used
     * @param maxTokens the most samples (longest × count) a batch may hold
     */
    public LengthBuckets(long[] lengths, long maxTokens, long seed) {
        if (lengths.length == 0) throw new IllegalArgumentException("no examples to batch");
        this.seed = seed;
        int[] tie = BatchLoader.permutation(seed, -3, lengths.length);
        int[] rank = new int[lengths.length];
        for (int i = 0; i < tie.length; i++) rank[tie[i]] = i;
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingLong(i -> -lengths[i]).thenComparingInt(i -> rank[i]));
        List<int[]> out = new ArrayList<>();
        List<Integer> cur = new ArrayList<>();
        long longest = 0;
        for (int i : order) {
            if (lengths[i] > maxTokens) throw new IllegalArgumentException("an example of " + lengths[i] + " exceeds max_tokens " + maxTokens);
            long l = Math.max(longest, lengths[i]);
            if (!cur.isEmpty() && l * (cur.size() + 1) > maxTokens) {
                out.add(cur.stream().mapToInt(Integer::intValue).toArray());
                cur.clear();
                l = lengths[i];
            }
            cur.add(i);
            longest = l;
        }
        out.add(cur.stream().mapToInt(Integer::intValue).toArray());
        this.batches = List.copyOf(out);
    }

    @Override public int batchesPerEpoch() { return batches.size(); }

    @Override
    public synchronized int[] batch(long epoch, int k) {
        if (epoch != cachedEpoch) {
            order = BatchLoader.permutation(seed, epoch, batches.size());
            cachedEpoch = epoch;
        }
        return batches.get(order[k]).clone();
    }

    /** Every batch (in the fixed order before shuffling). */
    public List<int[]> all() { return batches; }
}
