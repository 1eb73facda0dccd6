package org.d2v.backend;

/**
 * Hands out non-overlapping Philox offsets for one seed. Its whole state is (seed, next offset),
 * which a checkpoint saves so that a resumed run draws exactly the numbers it would have drawn.
 * Not final: a micro-batch's stream (org.d2v.data2vec) hands out the offsets of its samples' part
 * of whole-batch draws.
 */
public class RandomStream {
    private final long seed;
    private long next;

    public RandomStream(long seed) { this(seed, 0); }

    public RandomStream(long seed, long next) {
        this.seed = seed;
        this.next = next;
    }

    public long seed() { return seed; }

    /** The offset that the next draw will get. */
    public long position() { return next; }

    /** Reserves offsets for n uniform/dropout elements; returns the first. */
    public long takeUniform(long n) {
        long at = next;
        next += Philox.blocksUniform(n);
        return at;
    }

    /** Reserves offsets for n normal elements; returns the first. */
    public long takeNormal(long n) {
        long at = next;
        next += Philox.blocksNormal(n);
        return at;
    }

    /** A host-side uniform double in [0, 1) (for maskers and data order), also from the stream. */
    public double nextUniform() {
        return Philox.uniform(seed, takeUniform(1), 0);
    }

    /** A host-side integer uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be > 0");
        long w = Philox.word(seed, takeUniform(1), 0) & 0xFFFFFFFFL;
        return (int) ((w * bound) >>> 32);
    }
}
