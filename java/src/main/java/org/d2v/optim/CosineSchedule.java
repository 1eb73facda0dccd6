package org.d2v.optim;

/**
 * fairseq's "cosine" learning-rate schedule with t_mult 1 (docs/algorithm.md §8): linear warm-up from 0 to
 * {@code peak} over {@code warmup} updates, then half a cosine from peak to {@code min} over
 * {@code maxUpdate − warmup} updates; after maxUpdate it stays at min.
 */
public record CosineSchedule(double peak, long warmup, long maxUpdate, double min) {
    public CosineSchedule {
        if (warmup < 0 || maxUpdate <= warmup) throw new IllegalArgumentException("need 0 ≤ warmup < maxUpdate, got " + warmup + ", " + maxUpdate);
        if (peak < min) throw new IllegalArgumentException("peak lr below min lr");
    }

    /** The learning rate after {@code n} completed updates (fairseq sets it this way before update n + 1). */
    public double lr(long n) {
        if (n < warmup) return peak * n / warmup;
        if (n >= maxUpdate) return min;
        double progress = (double) (n - warmup) / (maxUpdate - warmup);
        return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
    }
}
