package org.d2v.backend;

/**
 * Multi-head self-attention over a fused projection. Layouts (row-major):
 * qkv [batch, tokens, 3, heads, headDim] (the output of one Linear(D, 3D)), out [batch, tokens,
 * heads, headDim], lse [batch, heads, tokens] (log-sum-exp of each softmax row, kept for backward).
 *
 * <p>logits[b,h,i,j] = scale · q·k + bias, where the optional ALiBi bias is
 * −slope[h] · max(alibiScale[h], 0) · |pos[b,i] − pos[b,j]| (pos are the tokens' original
 * positions, so kept tokens keep their distances after masked ones are dropped), and padded keys
 * (keyPadding[b,j] = 1) get −∞. Dropout on the probabilities keeps p[b,h,i,j] when the Philox
 * word of element ((b·heads + h)·tokens + i)·tokens + j of stream (seed, offset) is not below
 * p·2³², scaling kept ones by 1/(1−p); see {@link Philox}.
 */
public record AttentionDesc(int batch, int tokens, int heads, int headDim, double scale,
                            boolean alibi, boolean keyPadding, double dropout, long seed, long offset) {
    public AttentionDesc {
        if (batch < 1 || tokens < 1 || heads < 1 || headDim < 1) {
            throw new IllegalArgumentException("bad attention sizes");
        }
        if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("dropout must be in [0, 1)");
    }

    public static AttentionDesc of(int batch, int tokens, int heads, int headDim) {
        return new AttentionDesc(batch, tokens, heads, headDim, 1.0 / Math.sqrt(headDim), false, false, 0, 0, 0);
    }

    public AttentionDesc withAlibi(boolean a) { return new AttentionDesc(batch, tokens, heads, headDim, scale, a, keyPadding, dropout, seed, offset); }

    public AttentionDesc withKeyPadding(boolean k) { return new AttentionDesc(batch, tokens, heads, headDim, scale, alibi, k, dropout, seed, offset); }

    public AttentionDesc withDropout(double p, long seed, long offset) { return new AttentionDesc(batch, tokens, heads, headDim, scale, alibi, keyPadding, p, seed, offset); }

    public int dim() { return heads * headDim; }

    /** Forward FLOPs as flash-attention counts them: 4·B·H·T²·Dh. */
    public long flops() { return 4L * batch * heads * (long) tokens * tokens * headDim; }
}
