package org.d2v.backend.memory;

/**
 * The block sizes the {@link CachingAllocator} asks the driver for. Below 1 MiB a request is
 * rounded up to a multiple of 512 bytes (small tensors: biases, masks, per-row statistics, where
 * any coarser step would waste more than it saves); from 1 MiB on, to the next of 1, 1.25, 1.5
 * or 1.75 times a power of two (four classes per octave), so a block wastes less than 25 % (about
 * 12 % on average) and tensors whose sizes differ a little share blocks.
 */
public final class SizeClasses {
    public static final long SMALL_LIMIT = 1L << 20;
    public static final long SMALL_STEP = 512;

    private SizeClasses() {}

    /** The block size that serves a request of {@code bytes} (≥ 1). */
    public static long classOf(long bytes) {
        if (bytes < 1) throw new IllegalArgumentException("cannot size a block of " + bytes + " bytes");
        if (bytes <= SMALL_LIMIT) return (bytes + SMALL_STEP - 1) / SMALL_STEP * SMALL_STEP;
        long octave = Long.highestOneBit(bytes - 1); // the power of two just below (or at) the request
        long quarter = octave / 4;
        return (bytes + quarter - 1) / quarter * quarter;
    }
}
