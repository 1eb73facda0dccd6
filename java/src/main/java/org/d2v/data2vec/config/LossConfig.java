package org.d2v.data2vec.config;

/**
 * Targets and loss (docs/algorithm.md §5, §7), with {@code target} TEACHER: average the instance-normalised FFN outputs of the top
 * {@code topK} main blocks, then a non-affine LN if {@code layerNormTargets}; regression scaled by
 * {@code scale} (NaN: 1/√D); image CLS loss weight {@code clsWeight} (0: off); collapse guards
 * (std below the minimum raises) active after {@code guardAfterStep} updates (0 disables a guard).
 */
public record LossConfig(int topK, boolean instanceNormLayers, boolean layerNormTargets, double scale, double clsWeight,
                         double minTargetStd, double minPredStd, long guardAfterStep, Target target) {
    public static final double TARGET_EPS = 1e-5;

    /** What the student regresses at masked positions. */
    public enum Target {
        /** data2vec 2.0: the EMA teacher's contextualised, layer-averaged representations. */
        TEACHER,
        /**
         * MAE-style ablation (images only): each masked patch's own pixels, normalised per patch
         * (MAE's norm_pix_loss); no teacher runs and no EMA update is made.
         */
        PIXELS
    }

    public LossConfig {
        if (topK < 1) throw new IllegalArgumentException("topK must be ≥ 1");
        if (clsWeight < 0) throw new IllegalArgumentException("clsWeight must be ≥ 0");
        if (target == null) throw new IllegalArgumentException("target must be given");
    }

    /** data2vec 2.0's teacher targets. */
    public LossConfig(int topK, boolean instanceNormLayers, boolean layerNormTargets, double scale, double clsWeight,
                      double minTargetStd, double minPredStd, long guardAfterStep) {
        this(topK, instanceNormLayers, layerNormTargets, scale, clsWeight, minTargetStd, minPredStd, guardAfterStep, Target.TEACHER);
    }

    /**
     * The MAE-style arm: per-patch normalised pixels of {@code patchValues} = patch² × channels
     * values, the loss a mean over them (scale 1 / patchValues, MAE's per-patch mean), no CLS loss.
     */
    public LossConfig pixelTargets(int patchValues) {
        return new LossConfig(topK, instanceNormLayers, layerNormTargets, 1.0 / patchValues, 0, minTargetStd, minPredStd, guardAfterStep, Target.PIXELS);
    }

    public boolean pixels() { return target == Target.PIXELS; }

    /** s of docs/algorithm.md §7.1 for model dim {@code dim}. */
    public double scaleFor(int dim) { return Double.isNaN(scale) ? 1.0 / Math.sqrt(dim) : scale; }
}
