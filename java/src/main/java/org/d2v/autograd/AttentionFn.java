package org.d2v.autograd;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Fused multi-head attention over a [batch, tokens, 3·dim] projection. */
final class AttentionFn {
    private AttentionFn() {}

    /**
     * @param d           sizes and flags; its dropout seed/offset are replaced by draws from rng
     * @param rng         source of the dropout stream (may be null when d.dropout() is 0)
     */
    static Tensor attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                            Tensor keyPadding, RandomStream rng) {
        if (qkv.numel() != 3L * d.batch() * d.tokens() * d.dim()) {
            throw new IllegalArgumentException("attention: qkv " + qkv.shape() + " does not match " + d);
        }
        if (d.alibi() && (alibiSlopes == null || alibiScale == null || positions == null)) {
            throw new IllegalArgumentException("attention: ALiBi needs slopes, scale and positions");
        }
        if (d.keyPadding() && keyPadding == null) throw new IllegalArgumentException("attention: key padding mask missing");
        AttentionDesc desc = d;
        if (d.dropout() > 0) {
            if (rng == null) throw new IllegalArgumentException("attention dropout needs a RandomStream");
            long elements = (long) d.batch() * d.heads() * d.tokens() * d.tokens();
            desc = d.withDropout(d.dropout(), rng.seed(), rng.takeUniform(elements));
        }
        AttentionDesc ad = desc;
        Ops ops = qkv.device().ops();
        Tensor out = Tensor.empty(qkv.device(), qkv.dtype(), Shape.of(d.batch(), d.tokens(), d.dim()));
        Tensor lse = Tensor.empty(qkv.device(), qkv.dtype().compute(), Shape.of(d.batch(), d.heads(), d.tokens()));
        Tensor scale = d.alibi() ? alibiScale : null;
        ops.attention(ad, qkv, d.alibi() ? alibiSlopes : null, scale, d.alibi() ? positions : null,
                d.keyPadding() ? keyPadding : null, out, lse);
        if (Tape.needsGrad(qkv, scale)) {
            out.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dout = out.grad();
                if (dout == null) return;
                Tensor delta = Tensor.empty(qkv.device(), qkv.dtype().compute(), Shape.of(d.batch(), d.heads(), d.tokens()));
                boolean dxNeeded = qkv.requiresGrad();
                boolean accumulate = dxNeeded && qkv.grad() != null; // a fresh gradient is overwritten, not zeroed first
                Tensor dqkv = dxNeeded ? qkv.gradOrEmpty() : Elementwise.like(qkv);
                Tensor dScale = scale != null && scale.requiresGrad() ? scale.gradOrZeros() : null;
                if (scale != null && dScale == null) dScale = Elementwise.like(scale); // the op always writes it
                ops.attentionBackward(ad, qkv, d.alibi() ? alibiSlopes : null, scale, d.alibi() ? positions : null,
                        d.keyPadding() ? keyPadding : null, out, dout, lse, delta, dqkv, dScale, accumulate);
            });
        }
        return out;
    }
}
