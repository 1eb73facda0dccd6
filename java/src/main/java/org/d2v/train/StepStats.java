package org.d2v.train;

import java.util.Locale;

/**
 * What one training step reports. regression and cls are the two loss terms (docs/algorithm.md §7);
 * targetStd and predStd are the collapse-guard statistics (docs/algorithm.md §7.3); gradNorm is the global
 * gradient norm before clipping; weightSum is Σθ of the weights after the update (0 where a
 * model does not measure it), the loop's check that no weight became non-finite; samples and
 * tokens are the batch's size.
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
    private double loss, regression, cls, targetStd, predStd, gradNorm, weightSum;
    private String problem;

    /** Stats whose values are known now. */
    public StepStats(double loss, double regression, double cls, double targetStd, double predStd, double gradNorm,
                     long samples, long tokens) {
        this.samples = samples;
        this.tokens = tokens;
        set(loss, regression, cls, targetStd, predStd, gradNorm, 0, null);
    }

    /** Stats whose values {@code ring} will deliver. */
    StepStats(StatsRing ring, long samples, long tokens) {
        this.samples = samples;
        this.tokens = tokens;
        this.ring = ring;
    }

    void set(double loss, double regression, double cls, double targetStd, double predStd, double gradNorm, double weightSum,
             String problem) {
        this.loss = loss;
        this.regression = regression;
        this.cls = cls;
        this.targetStd = targetStd;
        this.predStd = predStd;
        this.gradNorm = gradNorm;
        this.weightSum = weightSum;
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

    /** Σθ of the weights after this step's update (0: not measured). */
    public double weightSum() { return checked().weightSum; }

    /**
     * The values as they arrived, whether or not a check found a problem (waits for them): a
     * failing step's metrics row is still written.
     */
    Values values() {
        resolve();
        return new Values(loss, regression, cls, targetStd, predStd, gradNorm, weightSum);
    }

    /** A step's values, unchecked. */
    record Values(double loss, double regression, double cls, double targetStd, double predStd, double gradNorm, double weightSum) {
        /** What is not finite, as "the loss is NaN at step 7", or null when every value is finite. */
        String nonFinite(long step) {
            if (!Double.isFinite(loss)) return "loss is " + loss + " at step " + step;
            if (!Double.isFinite(gradNorm)) return "the gradient norm is " + gradNorm + " at step " + step;
            if (!Double.isFinite(weightSum)) return "the weights are not finite after step " + step + " (their sum is " + weightSum + ")";
            return null;
        }
    }

    public long samples() { return samples; }

    public long tokens() { return tokens; }

    @Override
    public String toString() {
        if (ring != null) return "StepStats(pending, " + samples + " samples)";
        return String.format(Locale.ROOT, "StepStats(loss %s, regression %s, cls %s, target std %s, pred std %s, grad norm %s, %d samples, %d tokens%s)",
                loss, regression, cls, targetStd, predStd, gradNorm, samples, tokens, problem == null ? "" : ", " + problem);
    }
}
