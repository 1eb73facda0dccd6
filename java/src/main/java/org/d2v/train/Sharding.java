package org.d2v.train;

/**
 * How every global batch is cut: into {@code ranks × updateFreq} contiguous parts of (as nearly as
 * possible) equal size, in sample order; rank r takes parts r·F … r·F + F − 1 as its micro-batches.
 * Part p holds the samples [⌊p·G/P⌋, ⌊(p+1)·G/P⌋) of a global batch of G samples (P parts), so
 * the same global batch sequence is trained for any number of ranks (docs/distributed.md).
 */
public record Sharding(int rank, int ranks, int updateFreq) {
    /** One process, one micro-batch per update. */
    public static final Sharding NONE = new Sharding(0, 1, 1);

    public Sharding {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks);
        if (updateFreq < 1) throw new IllegalArgumentException("update frequency must be >= 1, got " + updateFreq);
    }

    /** Micro-batches per global batch, over all ranks. */
    public int parts() { return ranks * updateFreq; }

    /** First sample of this rank's micro-batch k (0 ≤ k < updateFreq) of a global batch of {@code global} samples. */
    public int from(int k, int global) { return bound((long) rank * updateFreq + k, global); }

    /** One past the last sample of this rank's micro-batch k. */
    public int to(int k, int global) { return bound((long) rank * updateFreq + k + 1, global); }

    private int bound(long part, int global) {
        if (part < 0 || part > parts()) throw new IllegalArgumentException("no part " + part + " of " + parts());
        return (int) (part * global / parts());
    }

    /** "rank 1 of 2, 4 micro-batches per update". */
    public String describe() {
        return "rank " + rank + " of " + ranks + ", " + updateFreq + " micro-batch" + (updateFreq == 1 ? "" : "es") + " per update";
    }
}
