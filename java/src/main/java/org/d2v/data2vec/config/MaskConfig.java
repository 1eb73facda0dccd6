package org.d2v.data2vec.config;

/**
 * Masking (docs/algorithm.md §4): R = {@code prob}, A = {@code adjust}, B = {@code length} (block width or span
 * length; 1 with {@code inverse} false means uniform random masking as for text), {@code inverse}
 * (the blocks mark the kept region, images).
 */
public record MaskConfig(double prob, double adjust, int length, boolean inverse) {
    public MaskConfig {
        if (prob <= 0 || prob >= 1) throw new IllegalArgumentException("mask prob must be in (0, 1), got " + prob);
        if (length < 1) throw new IllegalArgumentException("mask length must be ≥ 1");
    }
}
