package org.d2v.optim;

import org.d2v.nn.ParameterStore;

/**
 * One optimiser update as fairseq runs it, after the backward pass has filled the flat gradient
 * buffer: global gradient norm, clip factor, learning rate from the schedule, AdamW (with the
 * clip folded into its gradient scale). The caller zeroes the gradients before the next backward.
 */
public final class Optimizer implements AutoCloseable {
    private final ParameterStore store;
    private final AdamW adamw;
    private final CosineSchedule schedule;
    private final double clipNorm;
    private double lastLr;
    private double lastNorm;

    /** @param clipNorm the maximum global gradient norm; 0 turns clipping off (and skips the norm) */
    public Optimizer(ParameterStore store, AdamW.Config config, CosineSchedule schedule, double clipNorm) {
        this.store = store;
        this.adamw = new AdamW(store, config);
        this.schedule = schedule;
        this.clipNorm = clipNorm;
    }

    /** Clips and applies one update; returns the learning rate used. */
    public double step() {
        double factor = 1;
        if (clipNorm > 0) {
            lastNorm = GradClip.globalNorm(store);
            factor = GradClip.factor(lastNorm, clipNorm);
        }
        lastLr = schedule.lr(adamw.stepCount());
        adamw.step(lastLr, factor);
        return lastLr;
    }

    /** Updates applied so far. */
    public long updates() { return adamw.stepCount(); }

    /** The global gradient norm the last step saw (0 when clipping is off: it is not computed then). */
    public double lastGradNorm() { return lastNorm; }

    public double lastLr() { return lastLr; }

    public AdamW adamw() { return adamw; }

    @Override public void close() { adamw.close(); }
}
