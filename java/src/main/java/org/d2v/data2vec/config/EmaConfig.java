package org.d2v.data2vec.config;

import org.d2v.optim.EmaSchedule;

/** Teacher EMA decay (docs/algorithm.md §5): linear from {@code start} to {@code end} over {@code annealSteps}. */
public record EmaConfig(double start, double end, long annealSteps) {
    public EmaConfig {
        if (start < 0 || start > 1 || end < 0 || end > 1) throw new IllegalArgumentException("EMA decays must be in [0, 1]");
        if (annealSteps < 1) throw new IllegalArgumentException("EMA annealSteps must be ≥ 1");
    }

    public EmaSchedule schedule() { return new EmaSchedule(start, end, annealSteps); }

    /** τ used after update n (1-based), fairseq's get_annealed_rate. */
    public double decay(long n) { return schedule().tau(n); }
}
