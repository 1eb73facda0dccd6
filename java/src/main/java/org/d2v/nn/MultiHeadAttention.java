package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.backend.AttentionDesc;
import org.d2v.tensor.Tensor;

/**
 * Self-attention with a fused qkv Linear(D, 3D) (bias on), softmax scale (D/H)^−½, optional ALiBi
 * and key padding, dropout on the probabilities in train mode, and an output Linear(D, D)
 * (docs/algorithm.md §2). x [batch, tokens, D] → [batch, tokens, D].
 */
public final class MultiHeadAttention extends Module {
    private final Linear qkv;
    private final Linear proj;
    private final int dim;
    private final int heads;
    private final double attentionDropout;

    public MultiHeadAttention(ParameterStore.Builder b, int dim, int heads, double attentionDropout) {
        if (dim % heads != 0) throw new IllegalArgumentException("attention " + b.prefix() + ": dim " + dim + " not divisible by " + heads + " heads");
        this.dim = dim;
        this.heads = heads;
        this.attentionDropout = attentionDropout;
        this.qkv = child("qkv", new Linear(b.child("qkv"), dim, 3 * dim, true));
        this.proj = child("proj", new Linear(b.child("proj"), dim, dim, true));
    }

    public Tensor forward(Tensor x, AttentionBias bias) {
        if (x.shape().rank() != 3 || x.dim(2) != dim) throw new IllegalArgumentException("attention wants [batch, tokens, " + dim + "], got " + x.shape());
        AttentionDesc d = AttentionDesc.of(x.dim(0), x.dim(1), heads, dim / heads)
                .withAlibi(bias.alibi()).withKeyPadding(bias.padding())
                .withDropout(isTraining() ? attentionDropout : 0, 0, 0);
        Tensor ctx = F.attention(d, qkv.forward(x), bias.alibiSlopes(), bias.alibiScale(), bias.positions(),
                bias.keyPadding(), random());
        return proj.forward(ctx);
    }

    public Linear qkv() { return qkv; }

    public Linear proj() { return proj; }

    public int heads() { return heads; }
}
