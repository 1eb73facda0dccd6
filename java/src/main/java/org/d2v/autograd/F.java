package org.d2v.autograd;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Differentiable functions, the entry point of autograd. Each allocates its output in the current
 * scope, runs the forward op and, when an input requires gradients and a {@link Tape} is
 * recording, records a backward closure that adds ({@code +=}) into the inputs' gradients.
 * The implementations live by family in this package (Dense, Elementwise, Norms, AttentionFn,
 * Convolution, Rows, Losses).
 */
public final class F {
    private F() {}

    // ---- dense ---------------------------------------------------------------------------------

    /**
     * y = x·Wᵀ + b for x [..., in], W [out, in] (PyTorch layout), b [out] or null. The GEMM runs in
     * W's storage: x is cast to W's dtype first when it differs (a bf16 model's head on fp32 pooled
     * features); b stays in its (master) dtype.
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) { return Dense.linear(x, w, b, false); }

    /** y = GELU(x·Wᵀ + b), the activation fused into the GEMM epilogue. */
    public static Tensor linearGelu(Tensor x, Tensor w, Tensor b) { return Dense.linear(x, w, b, true); }

    /** C = op(A)·op(B), batched as {@code d} says (activation NONE); shape [batch, m, n] or [m, n]. */
    public static Tensor matmul(MatmulDesc d, Tensor a, Tensor b) { return Dense.matmul(d, a, b); }

    // ---- precision ----------------------------------------------------------------------------

    /**
     * x stored as {@code dtype} (F32 ↔ BF16; x itself when it already is): the mixed-precision
     * boundary (docs/precision.md). The gradient goes back the other way and accumulates into x's.
     */
    public static Tensor cast(Tensor x, DType dtype) { return Elementwise.cast(x, dtype); }

    // ---- views --------------------------------------------------------------------------------

    /**
     * The same elements in another shape. Unlike {@link Tensor#reshape}, the view stays on the
     * tape: its gradient aliases (a reshaped view of) the input's gradient.
     */
    public static Tensor reshape(Tensor x, int... dims) {
        Tensor y = x.reshape(dims);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            y.setGrad(x.gradOrZeros().reshape(dims));
        }
        return y;
    }

    // ---- elementwise ---------------------------------------------------------------------------

    public static Tensor add(Tensor a, Tensor b) { return Elementwise.add(a, b); }

    public static Tensor mul(Tensor a, Tensor b) { return Elementwise.mul(a, b); }

    /** alpha·x. */
    public static Tensor scale(Tensor x, double alpha) { return Elementwise.scale(x, alpha); }

    /** x + v broadcast over rows: x viewed as [outer, v.numel()] (biases, position tables). */
    public static Tensor addBroadcast(Tensor x, Tensor v) { return Elementwise.addBroadcast(x, v); }

    public static Tensor gelu(Tensor x) { return Elementwise.gelu(x); }

    /** Inverted dropout with probability p; draws its mask offset from rng. p = 0 returns x. */
    public static Tensor dropout(Tensor x, double p, RandomStream rng) { return Elementwise.dropout(x, p, rng); }

    // ---- reductions ----------------------------------------------------------------------------

    /** out[i, k] = alpha·Σ_j x[i, j, k] for x viewed as [a, b, c]; shape [a, c], in x's compute dtype (F32 for BF16). */
    public static Tensor reduceMiddle(Tensor x, int a, int b, int c, double alpha) { return Elementwise.reduceMiddle(x, a, b, c, alpha); }

    /** Mean over the time axis of x [batch, time, channels]: [batch, channels]. */
    public static Tensor meanOverTime(Tensor x) {
        if (x.shape().rank() != 3) throw new IllegalArgumentException("meanOverTime wants [batch, time, channels], got " + x.shape());
        return reduceMiddle(x, x.dim(0), x.dim(1), x.dim(2), 1.0 / x.dim(1));
    }

    /** Σ x, shape [1], in x's compute dtype. */
    public static Tensor sum(Tensor x) { return Elementwise.sum(x); }

    // ---- normalisation -------------------------------------------------------------------------

    /** LayerNorm over the last dim; gamma and beta may be null (non-affine). */
    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) { return Norms.layerNorm(x, gamma, beta, eps); }

    /** Instance norm over time of x [batch, time, channels], no affine (docs/algorithm.md §5 targets). */
    public static Tensor instanceNorm(Tensor x, double eps) { return Norms.instanceNorm(x, eps); }

    // ---- attention -----------------------------------------------------------------------------

    /**
     * Fused multi-head attention; qkv [batch, tokens, 3·dim] → [batch, tokens, dim]. ALiBi
     * inputs are read when d.alibi() (the scale [heads] is learnable), keyPadding [batch, tokens]
     * when d.keyPadding(). With d.dropout() > 0 the mask's Philox offset is drawn from rng.
     */
    public static Tensor attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale,
                                   Tensor positions, Tensor keyPadding, RandomStream rng) {
        return AttentionFn.attention(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, rng);
    }

    // ---- convolution ---------------------------------------------------------------------------

    /** Grouped convolution, channels-last (see {@link ConvDesc}); b may be null. */
    public static Tensor conv(ConvDesc d, Tensor x, Tensor w, Tensor b) { return Convolution.conv(d, x, w, b); }

    // ---- rows ----------------------------------------------------------------------------------

    /** table[ids] : ids (I32, any shape) → [..., dim]. */
    public static Tensor embedding(Tensor ids, Tensor table) { return Rows.embedding(ids, table); }

    /** dst[b, k, :] = src[b, idx[b, k], :] (keeps the unmasked tokens). */
    public static Tensor gatherRows(Tensor src, Tensor idx) { return Rows.gatherRows(src, idx); }

    /** A copy of base with rows idx[b, k] replaced by src[b, k, :] (the decoder input). */
    public static Tensor scatterRows(Tensor src, Tensor idx, Tensor base) { return Rows.scatterRows(src, idx, base); }

    /**
     * [token; x[b]] for every sample: x [batch, tokens, dim], token [dim] (e.g. a learned CLS
     * embedding) → [batch, tokens + 1, dim]. Built from repeatRows and scatterRows (two launches).
     */
    public static Tensor prependToken(Tensor x, Tensor token) {
        if (x.shape().rank() != 3 || token.numel() != x.dim(2)) {
            throw new IllegalArgumentException("prependToken: x " + x.shape() + " token " + token.shape());
        }
        int batch = x.dim(0), tokens = x.dim(1), dim = x.dim(2);
        Tensor base = reshape(repeatRows(reshape(token, 1, dim), batch * (tokens + 1)), batch, tokens + 1, dim);
        return scatterRows(x, tokenRange(x, batch, 1, tokens), base);
    }

    /** x [batch, tokens, dim] without its first {@code n} tokens (the extra tokens of docs/algorithm.md §5). */
    public static Tensor dropLeadingTokens(Tensor x, int n) {
        if (x.shape().rank() != 3 || n < 0 || n >= x.dim(1)) {
            throw new IllegalArgumentException("dropLeadingTokens: cannot drop " + n + " tokens of " + x.shape());
        }
        if (n == 0) return x;
        return gatherRows(x, tokenRange(x, x.dim(0), n, x.dim(1) - n));
    }

    /** I32 [batch, count] holding from, from+1, … in every row. */
    private static Tensor tokenRange(Tensor like, int batch, int from, int count) {
        int[] idx = new int[batch * count];
        for (int i = 0; i < idx.length; i++) idx[i] = from + i % count;
        return Tensor.ofInts(like.device(), Shape.of(batch, count), idx);
    }

    /** Each sample repeated {@code copies} times along dim 0 (multi-mask clones). */
    public static Tensor repeatRows(Tensor x, int copies) { return Rows.repeatRows(x, copies); }

    // ---- losses --------------------------------------------------------------------------------

    /** Masked regression loss (docs/algorithm.md §7.1), shape [1]; no gradient into the target. */
    public static Tensor maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask) {
        return Losses.maskedRegression(d, pred, target, mask);
    }

    /** Mean softmax cross-entropy, shape [1]. */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) { return Losses.crossEntropy(logits, labels); }
}
