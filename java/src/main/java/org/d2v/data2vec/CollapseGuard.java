package org.d2v.data2vec;

import org.d2v.autograd.F;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.tensor.Tensor;

/**
 * The collapse guards of spec §7.3: the spread of the targets and of the predictions at the
 * masked positions; training stops with a clear error when either falls below its minimum.
 */
final class CollapseGuard {
    private CollapseGuard() {}

    /**
     * fairseq's compute_var on the masked positions: the mean over channels of the per-channel
     * (unbiased) standard deviation across tokens, sqrt(var + 1e-6).
     */
    static double maskedStd(Tensor x, Tensor maskedIdx) {
        Tensor sel = F.gatherRows(x, maskedIdx);
        int d = sel.dim(2);
        int n = (int) (sel.numel() / d);
        Tensor mean = F.reduceMiddle(sel, 1, n, d, 1.0 / n);
        Tensor meanSq = F.reduceMiddle(F.mul(sel, sel), 1, n, d, 1.0 / n);
        double[] mu = mean.toDoubles(), sq = meanSq.toDoubles();
        double sum = 0;
        for (int c = 0; c < d; c++) {
            double var = Math.max(0, sq[c] - mu[c] * mu[c]) * n / Math.max(1, n - 1);
            sum += Math.sqrt(var + 1e-6);
        }
        return sum / d;
    }

    static void check(LossConfig lc, long step, double targetStd, double predStd) {
        if (step <= lc.guardAfterStep()) return;
        if (lc.minTargetStd() > 0 && targetStd < lc.minTargetStd()) {
            throw new IllegalStateException("representation collapse at step " + step + ": target std " + targetStd
                    + " < min_target_var " + lc.minTargetStd() + " (pred std " + predStd + ")");
        }
        if (lc.minPredStd() > 0 && predStd < lc.minPredStd()) {
            throw new IllegalStateException("representation collapse at step " + step + ": prediction std " + predStd
                    + " < min_pred_var " + lc.minPredStd() + " (target std " + targetStd + ")");
        }
    }
}
