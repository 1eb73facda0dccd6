package org.d2v.backend;

/**
 * One AdamW step (decoupled weight decay, as fairseq's "adam"): for step t ≥ 1,
 * m = β1·m + (1−β1)·g·s; v = β2·v + (1−β2)·(g·s)²;
 * p −= lr·wd·p; p −= lr·sqrt(1−β2^t)/(1−β1^t) · m / (sqrt(v) + eps)   (fairseq's form of the step).
 * The gradient scale s is not part of the descriptor: {@link Ops#adamw} reads it from a device
 * scalar, so global-norm clipping (computed on the device, {@link Ops#clipFactor}) folds into the
 * same launch without the host reading the norm.
 */
public record AdamWDesc(double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
    public AdamWDesc {
        if (step < 1) throw new IllegalArgumentException("AdamW step counts from 1");
    }

    /** lr·sqrt(1−β2^t)/(1−β1^t): the bias corrections folded into the step, as fairseq does. */
    public double stepSize() { return lr * Math.sqrt(1 - Math.pow(beta2, step)) / (1 - Math.pow(beta1, step)); }
}
