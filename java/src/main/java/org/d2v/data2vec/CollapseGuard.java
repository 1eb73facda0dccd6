package org.d2v.data2vec;

import org.d2v.autograd.F;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.tensor.Tensor;

/**
 * The collapse guards of docs/algorithm.md §7.3: the spread of the targets and of the predictions at the
 * masked positions; training stops with a clear error when either falls below its minimum. The
 * spread is computed on the device (a training step reads nothing back); the check runs on the
 * host when the step's statistics arrive.
 */
final class CollapseGuard {
    private CollapseGuard() {}

    /**
     * fairseq's compute_var on the masked positions, into out[0] (a one-element device tensor):
     * the mean over channels of the per-channel (unbiased) standard deviation across tokens,
     * sqrt(var + 1e-6).
     */
    static void maskedStd(Tensor x, Tensor maskedIdx, Tensor out) {
        Tensor sel = F.gatherRows(x, maskedIdx);
        int d = sel.dim(2);
        int n = (int) (sel.numel() / d);
        Tensor mean = F.reduceMiddle(sel, 1, n, d, 1.0 / n);
        Tensor meanSq = F.reduceMiddle(F.mul(sel, sel), 1, n, d, 1.0 / n);
        x.device().ops().meanChannelStd(n, mean, meanSq, out);
    }

    /** What is wrong with step {@code step}'s statistics (a message naming the step and the guard), or null. */
    static String problem(LossConfig lc, long step, double targetStd, double predStd) {
        if (step <= lc.guardAfterStep()) return null;
        if (lc.minTargetStd() > 0 && targetStd < lc.minTargetStd()) {
            return "representation collapse at step " + step + ": target std " + targetStd
                    + " < min_target_var " + lc.minTargetStd() + " (pred std " + predStd + ")";
        }
        if (lc.minPredStd() > 0 && predStd < lc.minPredStd()) {
            return "representation collapse at step " + step + ": prediction std " + predStd
                    + " < min_pred_var " + lc.minPredStd() + " (target std " + targetStd + ")";
        }
        return null;
    }

    /** Throws {@link #problem} as an IllegalStateException. */
    static void check(LossConfig lc, long step, double targetStd, double predStd) {
        String p = problem(lc, step, targetStd, predStd);
        if (p != null) throw new IllegalStateException(p);
    }
}
