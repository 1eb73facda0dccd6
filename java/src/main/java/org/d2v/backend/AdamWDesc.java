package org.d2v.backend;

/**
 * One AdamW step (decoupled weight decay, as fairseq's "adam"): for step t ≥ 1,
 * m = β1·m + (1−β1)·g·gradScale; v = β2·v + (1−β2)·(g·gradScale)²;
 * p −= lr·wd·p; p −= lr·sqrt(1−β2^t)/(1−β1^t) · m / (sqrt(v) + eps)   (fairseq's form of the step).
 * gradScale folds global-norm clipping into the same launch.
 */
public record AdamWDesc(double lr, double beta1, double beta2, double eps, double weightDecay,
                        long step, double gradScale) {
    public AdamWDesc {
        if (step < 1) throw new IllegalArgumentException("AdamW step counts from 1");
    }
}
