package org.d2v.nn;

import org.d2v.tensor.Tensor;

/**
 * Optional extras of self-attention: ALiBi (slopes [heads], a learnable scale [heads], token
 * positions [batch, tokens] I32) and a key padding mask [batch, tokens] I32 (1 = padded).
 * Null parts are off.
 */
public record AttentionBias(Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding) {
    public static final AttentionBias NONE = new AttentionBias(null, null, null, null);

    public AttentionBias {
        boolean any = alibiSlopes != null || alibiScale != null || positions != null;
        boolean all = alibiSlopes != null && alibiScale != null && positions != null;
        if (any && !all) throw new IllegalArgumentException("ALiBi needs slopes, scale and positions together");
    }

    public boolean alibi() { return alibiSlopes != null; }

    public boolean padding() { return keyPadding != null; }

    /** The standard ALiBi slopes 2^(−8(h+1)/heads) for a power-of-two head count (else the interleaved form). */
    public static double[] slopes(int heads) {
        double[] s = new double[heads];
        int p = Integer.highestOneBit(heads);
        for (int h = 0; h < p; h++) s[h] = Math.pow(2, -8.0 * (h + 1) / p);
        for (int h = p; h < heads; h++) s[h] = Math.pow(2, -8.0 * (2 * (h - p) + 1) / (2 * p));
        return s;
    }
}
