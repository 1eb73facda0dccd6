package org.d2v.data2vec.config;

/**
 * The conv decoder (docs/algorithm.md §6): {@code layers} × (conv k, groups → non-affine LN → GELU), residual
 * when enabled and channels match; then a Linear to the model dim, or with
 * {@code projectionLayers} = 2 a Linear(dim → ratio·dim) → GELU → Linear(→ model dim).
 */
public record DecoderConfig(int dim, int kernel, int layers, int groups, boolean residual, double inputDropout,
                            int projectionLayers, double projectionRatio) {
    public DecoderConfig {
        if (dim < 1 || layers < 1 || groups < 1 || dim % groups != 0) throw new IllegalArgumentException("decoder dim " + dim + " must be a positive multiple of groups " + groups);
        if (kernel < 1 || kernel % 2 == 0) throw new IllegalArgumentException("decoder kernel must be odd, got " + kernel);
        if (projectionLayers < 1 || projectionLayers > 2) throw new IllegalArgumentException("decoder projection has 1 or 2 layers");
        if (inputDropout < 0 || inputDropout >= 1) throw new IllegalArgumentException("decoder input dropout must be in [0, 1)");
    }
}
