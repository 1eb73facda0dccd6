package org.d2v.train;

import java.util.Locale;

/**
 * What one training step reports. regression and cls are the two loss terms (spec §7);
 * targetStd and predStd are the collapse-guard statistics (spec §7.3); gradNorm is the global
 * gradient norm before clipping; samples and tokens are the batch's size.
 *
 * <p>The values may arrive later than the step: a model that keeps them on the device returns
 * pending stats from a {@link StatsRing}, and the first read of any pending value downloads the
 * ring (one host synchronisation for every step pending in it). A model's checks on a step (the
 * collapse guards, the gradient norm, bad ids) run when its values arrive: {@link #problem()} says
 * what they found, and reading a value of a step with a problem throws an IllegalStateException
 * naming the step, as the step itself would have thrown had it read its values at once.
 */
public final class StepStats {
    private final long samples, tokens;
    private StatsRing ring; // non-null while the values are still on the device
    private double loss, regression, cls, targetStd, predStd, gradNorm;
    private String problem;

    /** Stats whose values are known now. */
    public StepStats(double loss, double regression, double cls, double targetStd, double predStd, double gradNorm,
                     long samples, long tokens) {
        this.samples = samples;
        this.tokens = tokens;
        set(loss, regression, cls, targetStd, predStd, gradNorm, null);
    }

    /** Stats whose values {@code ring} will deliver. */
    StepStats(StatsRing ring, long samples, long tokens) {
        this.samples = samples;
        this.tokens = tokens;
        this.ring = ring;
    }

    void set(double loss, double regression, double cls, double targetStd, double predStd, double gradNorm, String problem) {
        this.loss = loss;
        this.regression = regression;
        this.cls = cls;
        this.targetStd = targetStd;
        this.predStd = predStd;
        this.gradNorm = gradNorm;
        this.problem = problem;
        this.ring = null;
    }

    /** Whether the values have arrived (reading them now does not wait). */
    public boolean ready() { return ring == null; }

    /** Waits for the values (draining the ring if they are pending) without checking them; returns this. */
    public StepStats resolve() {
        if (ring != null) ring.drain();
        return this;
    }

    /** What the model's checks found wrong with this step (a message naming it), or null; waits for the values. */
    public String problem() { return resolve().problem; }

    private StepStats checked() {
        if (problem() != null) throw new IllegalStateException(problem);
        return this;
    }

    public double loss() { return checked().loss; }

    public double regression() { return checked().regression; }

    public double cls() { return checked().cls; }

    public double targetStd() { return checked().targetStd; }

    public double predStd() { return checked().predStd; }

    public double gradNorm() { return checked().gradNorm; }

    public long samples() { return samples; }

    public long tokens() { return tokens; }

    @Override
    public String toString() {
        if (ring != null) return "StepStats(pending, " + samples + " samples)";
        return String.format(Locale.ROOT, "StepStats(loss %s, regression %s, cls %s, target std %s, pred std %s, grad norm %s, %d samples, %d tokens%s)",
                loss, regression, cls, targetStd, predStd, gradNorm, samples, tokens, problem == null ? "" : ", " + problem);
    }
}
