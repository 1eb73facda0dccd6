package org.d2v.data.batch;

/**
 * Which examples make up each batch of each epoch: a pure function of the epoch and the batch's
 * number in it, so a loader can start anywhere (exact resume) and any thread can build any batch.
 */
public interface BatchPlan {
    /** Batches in every epoch (at least 1). */
    int batchesPerEpoch();

    /** The dataset indices of batch {@code k} (0-based) of {@code epoch}. */
    int[] batch(long epoch, int k);

    /**
     * Fixed-size batches over a fresh seeded permutation each epoch (the incomplete tail is dropped,
     * so every batch has the same shape).
     */
    static BatchPlan shuffled(int size, int batchSize, long seed) {
        if (batchSize <= 0 || batchSize > size) throw new IllegalArgumentException("batch size " + batchSize + " for " + size + " examples");
        return new BatchPlan() {
            private long cachedEpoch = -1;
            private int[] perm;

            @Override public int batchesPerEpoch() { return size / batchSize; }

            @Override
            public synchronized int[] batch(long epoch, int k) {
                if (epoch != cachedEpoch) {
                    perm = BatchLoader.permutation(seed, epoch, size);
                    cachedEpoch = epoch;
                }
                int[] out = new int[batchSize];
                System.arraycopy(perm, k * batchSize, out, 0, batchSize);
                return out;
            }
        };
    }
}
