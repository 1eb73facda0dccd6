package org.d2v.data2vec.config;

/**
 * AdamW + cosine schedule (docs/algorithm.md §8). {@code clipNorm} 0 means no clipping.
 * {@code exemptFromDecay}: exempt 1-D parameters, biases and ALiBi scales from weight decay (what
 * the reference code intends); false applies decay to every parameter (what it actually does,
 * docs/algorithm.md §8 — the default of the base presets, see docs/data2vec.md).
 */
public record OptimConfig(double lr, double beta1, double beta2, double eps, double weightDecay, long warmup,
                          long maxUpdate, double clipNorm, boolean exemptFromDecay) {
    public OptimConfig {
        if (lr <= 0 || warmup < 0 || maxUpdate < 1) throw new IllegalArgumentException("bad optimiser schedule");
        if (clipNorm < 0) throw new IllegalArgumentException("clipNorm must be ≥ 0");
    }
}
