package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.tensor.Tensor;

/**
 * The shared Transformer block (fairseq's AltBlock, docs/algorithm.md §2). Post-LN, as every base model:
 * <pre>
 *   h  = x + drop_proj(attn(x))
 *   r  = LN1(h)
 *   a  = fc2(drop_act(GELU(fc1(r))))
 *   x' = LN2(r + drop_post(a))
 * </pre>
 * Pre-LN ({@code layer_norm_first}): h = x + drop_proj(attn(LN1(x))); a = MLP(LN2(h));
 * x' = h + drop_post(a). Either way the block also returns a, the FFN output before the
 * residual, from which data2vec's teacher builds its targets.
 */
public final class TransformerBlock extends Module {
    /** Dropout probabilities, named as in fairseq's config. */
    public record Dropouts(double attention, double encoder, double activation, double postMlp) {
        public static final Dropouts NONE = new Dropouts(0, 0, 0, 0);
    }

    /** The block's output and its FFN activation a (the teacher's target source). */
    public record Output(Tensor x, Tensor ffn) {}

    private final MultiHeadAttention attn;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final MLP mlp;
    private final boolean preLN;
    private final Dropouts drop;

    public TransformerBlock(ParameterStore.Builder b, int dim, int heads, int mlpRatio, double eps, boolean preLN, Dropouts drop) {
        this.preLN = preLN;
        this.drop = drop;
        this.attn = child("attn", new MultiHeadAttention(b.child("attn"), dim, heads, drop.attention()));
        this.norm1 = child("norm1", new LayerNorm(b.child("norm1"), dim, eps, true));
        this.mlp = child("mlp", new MLP(b.child("mlp"), dim, mlpRatio * dim, dim, drop.activation()));
        this.norm2 = child("norm2", new LayerNorm(b.child("norm2"), dim, eps, true));
    }

    public Output forward(Tensor x, AttentionBias bias) {
        if (preLN) {
            Tensor h = F.add(x, dropout(attn.forward(norm1.forward(x), bias), drop.encoder()));
            Tensor a = mlp.forward(norm2.forward(h));
            return new Output(F.add(h, dropout(a, drop.postMlp())), a);
        }
        Tensor h = F.add(x, dropout(attn.forward(x, bias), drop.encoder()));
        Tensor r = norm1.forward(h);
        Tensor a = mlp.forward(r);
        return new Output(norm2.forward(F.add(r, dropout(a, drop.postMlp()))), a);
    }

    public boolean preLN() { return preLN; }

    public MultiHeadAttention attention() { return attn; }

    public MLP mlp() { return mlp; }
}
