package org.d2v.optim;

/**
 * The teacher's annealed EMA decay (docs/algorithm.md §5, fairseq's get_annealed_rate):
 * τ(n) = τe − (τe − τ0)·(1 − n/τn) for n &lt; τn, and τe afterwards.
 */
public record EmaSchedule(double start, double end, long annealSteps) {
    public EmaSchedule {
        if (start < 0 || start > 1 || end < 0 || end > 1) throw new IllegalArgumentException("EMA decays must be in [0, 1]");
        if (annealSteps < 0) throw new IllegalArgumentException("anneal steps must be ≥ 0");
    }

    /** τ after {@code n} updates. */
    public double tau(long n) {
        if (n >= annealSteps) return end;
        return end - (end - start) * (1 - (double) n / annealSteps);
    }
}
