package org.d2v.data2vec.config;

/**
 * The shared post-LN Transformer (docs/algorithm.md §2): {@code depth} main blocks after {@code prenetDepth}
 * modality prenet blocks. Dropouts: attention probabilities, the attention output projection
 * ({@code encoder_dropout}), inside the MLP, after the MLP ({@code post_mlp_drop}), after the
 * prenet LayerNorm. {@code layerdrop} skips main blocks in the student only.
 */
public record EncoderConfig(int dim, int heads, int depth, int prenetDepth, double mlpRatio, double normEps,
                            double attentionDropout, double encoderDropout, double activationDropout,
                            double postMlpDropout, double prenetDropout, double layerdrop) {
    public EncoderConfig {
        if (dim < 1 || heads < 1 || dim % heads != 0) throw new IllegalArgumentException("encoder dim " + dim + " must be a positive multiple of heads " + heads);
        if (depth < 1 || prenetDepth < 0) throw new IllegalArgumentException("encoder needs depth ≥ 1 and prenetDepth ≥ 0");
        for (double p : new double[] {attentionDropout, encoderDropout, activationDropout, postMlpDropout, prenetDropout, layerdrop}) {
            if (p < 0 || p >= 1) throw new IllegalArgumentException("encoder dropout rates must be in [0, 1), got " + p);
        }
    }

    public int headDim() { return dim / heads; }

    public int mlpDim() { return (int) Math.round(dim * mlpRatio); }
}
