package org.d2v.data2vec;

import java.util.List;
import org.d2v.autograd.F;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.tensor.Tensor;

/**
 * The teacher's regression targets (docs/algorithm.md §5): the FFN outputs of the top K main blocks, each
 * without the extra tokens and instance-normalised over time, averaged, then (images) a
 * non-affine LayerNorm over channels. Teacher activations carry no gradient. The average and the
 * LayerNorm run in the compute dtype (fp32 for a bf16 teacher: every accumulator is fp32), and so
 * the targets are fp32.
 */
final class Targets {
    private Targets() {}

    /**
     * @param ffn   the main blocks' FFN outputs [B, extra + T, D], first block first
     * @param extra leading extra tokens (the image CLS) to drop
     */
    static Tensor build(List<Tensor> ffn, int extra, LossConfig cfg) {
        int k = cfg.topK();
        if (k > ffn.size()) throw new IllegalArgumentException("top-K " + k + " of only " + ffn.size() + " blocks");
        Tensor acc = null;
        for (Tensor a : ffn.subList(ffn.size() - k, ffn.size())) {
            if (a == null) throw new IllegalStateException("a target block was skipped: the teacher must run every block");
            if (a.requiresGrad()) throw new IllegalStateException("teacher activations must not carry gradients");
            Tensor y = extra > 0 ? dropLeading(a, extra) : a;
            if (cfg.instanceNormLayers()) y = F.instanceNorm(y, LossConfig.TARGET_EPS);
            y = F.cast(y, y.dtype().compute());
            if (acc == null) {
                acc = Tensor.empty(y.device(), y.dtype(), y.shape());
                y.device().ops().axpby(1.0 / k, y, 0, acc);
            } else {
                y.device().ops().axpby(1.0 / k, y, 1, acc);
            }
        }
        if (cfg.layerNormTargets()) acc = F.layerNorm(acc, null, null, LossConfig.TARGET_EPS);
        return acc;
    }

    /** x [B, extra + T, D] → [B, T, D]. */
    static Tensor dropLeading(Tensor x, int extra) {
        int b = x.dim(0), t = x.dim(1) - extra;
        return F.gatherRows(x, Indices.iota(x.device(), b, t, extra));
    }
}
