package org.d2v.data2vec.config;

/**
 * Targets and loss (spec §5, §7): average the instance-normalised FFN outputs of the top
 * {@code topK} main blocks, then a non-affine LN if {@code layerNormTargets}; regression scaled by
 * {@code scale} (NaN: 1/√D); image CLS loss weight {@code clsWeight} (0: off); collapse guards
 * (std below the minimum raises) active after {@code guardAfterStep} updates (0 disables a guard).
 */
public record LossConfig(int topK, boolean instanceNormLayers, boolean layerNormTargets, double scale, double clsWeight,
                         double minTargetStd, double minPredStd, long guardAfterStep) {
    public static final double TARGET_EPS = 1e-5;

    public LossConfig {
        if (topK < 1) throw new IllegalArgumentException("topK must be ≥ 1");
        if (clsWeight < 0) throw new IllegalArgumentException("clsWeight must be ≥ 0");
    }

    /** s of spec §7.1 for model dim {@code dim}. */
    public double scaleFor(int dim) { return Double.isNaN(scale) ? 1.0 / Math.sqrt(dim) : scale; }
}
