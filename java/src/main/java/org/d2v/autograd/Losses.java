package org.d2v.autograd;

import org.d2v.backend.LossDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Losses whose ops compute forward and backward in one pass: the gradient is produced with the
 * loss and scaled by the incoming scalar gradient when the tape runs.
 */
final class Losses {
    private Losses() {}

    /**
     * Masked regression (docs/algorithm.md §7.1). Targets are teacher outputs: no gradient flows into them. The
     * target is in pred's compute dtype (fp32 targets for a bf16 model: they are averages).
     */
    static Tensor maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask) {
        if (pred.numel() != (long) d.rows() * d.tokens() * d.dim()) throw new IllegalArgumentException("maskedRegression: pred " + pred.shape() + " vs " + d);
        if (target.numel() != (long) d.rows() / d.clones() * d.tokens() * d.dim()) throw new IllegalArgumentException("maskedRegression: target " + target.shape() + " vs " + d);
        if (mask.numel() != (long) d.rows() * d.tokens()) throw new IllegalArgumentException("maskedRegression: mask " + mask.shape() + " vs " + d);
        Ops ops = pred.device().ops();
        Tensor loss = Tensor.empty(pred.device(), pred.dtype().compute(), Shape.of(1));
        boolean grad = Tape.needsGrad(pred);
        Tensor dpred = grad ? Elementwise.like(pred) : null;
        ops.maskedRegression(d, pred, target, mask, loss, dpred, 1.0);
        if (grad) recordScaledGradient(ops, loss, pred, dpred);
        return loss;
    }

    /** Softmax cross-entropy averaged over rows: logits [rows, classes], labels [rows] (I32). */
    static Tensor crossEntropy(Tensor logits, Tensor labels) {
        if (labels.dtype() != DType.I32) throw new IllegalArgumentException("crossEntropy labels must be I32");
        int classes = logits.dim(-1);
        if (logits.numel() != labels.numel() * classes) throw new IllegalArgumentException("crossEntropy: logits " + logits.shape() + " labels " + labels.shape());
        Ops ops = logits.device().ops();
        Tensor loss = Tensor.empty(logits.device(), logits.dtype().compute(), Shape.of(1));
        boolean grad = Tape.needsGrad(logits);
        Tensor dlogits = grad ? Elementwise.like(logits) : null;
        ops.crossEntropy(logits, labels, loss, dlogits, 1.0);
        if (grad) recordScaledGradient(ops, loss, logits, dlogits);
        return loss;
    }

    /**
     * Backward: input.grad += dloss · g. The scalar dloss stays on the device (no host round
     * trip): it is broadcast to g's size, then multiplied in. (A [n×1]·[1×1] GEMM would do it in
     * one launch but overflows a CUDA grid at n in the millions.)
     */
    private static void recordScaledGradient(Ops ops, Tensor loss, Tensor input, Tensor g) {
        loss.setRequiresGrad(true);
        Tape.active().add(() -> {
            Tensor dl = loss.grad();
            if (dl == null) return;
            int n = (int) g.numel();
            Tensor scale = Elementwise.like(g);
            ops.broadcastMiddle(1, n, 1, 1.0, dl, scale, false);
            boolean acc = input.grad() != null;
            ops.mul(scale, g, input.gradOrEmpty(), acc);
        });
    }
}
