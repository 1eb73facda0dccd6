package org.d2v.data2vec;

import java.util.ArrayList;
import java.util.List;
import org.d2v.autograd.F;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.EncoderConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.nn.AttentionBias;
import org.d2v.nn.Conv1d;
import org.d2v.nn.Conv2d;
import org.d2v.nn.Init;
import org.d2v.nn.LayerNorm;
import org.d2v.nn.Module;
import org.d2v.nn.Parameter;
import org.d2v.nn.ParameterStore;
import org.d2v.nn.TransformerBlock;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Everything the EMA teacher mirrors (docs/algorithm.md §5 table), built identically for student and teacher:
 * image — patch embed, CLS, prenet LN + prenet blocks, main blocks; audio — conv positional
 * encoder, ALiBi scales, prenet LN, main blocks; text — main blocks only. All declarations are
 * tracked, so student and teacher stores share one tracked layout.
 */
final class Backbone extends Module {
    private static final double LN_EPS = 1e-5;

    /** The encoder output [rows, tokens, D] and the FFN activations of the main blocks, in order. */
    record Encoded(Tensor x, List<Tensor> ffn) {}

    private final EncoderConfig enc;
    private final Conv2d patchEmbed;
    private final Parameter cls;
    private final List<Conv1d> convPos = new ArrayList<>();
    private final Parameter alibiScale;
    private final LayerNorm prenetNorm;
    private final List<TransformerBlock> prenet = new ArrayList<>();
    private final List<TransformerBlock> blocks = new ArrayList<>();

    Backbone(ParameterStore.Builder root, Data2VecConfig cfg) {
        ParameterStore.Builder b = root.tracked(true);
        this.enc = cfg.encoder();
        int d = enc.dim();
        if (enc.mlpRatio() != Math.rint(enc.mlpRatio())) throw new IllegalArgumentException("mlpRatio must be an integer, got " + enc.mlpRatio());
        ModalityConfig m = cfg.modality();
        if (m instanceof ModalityConfig.Image img) {
            int fanIn = img.channels() * img.patch() * img.patch();
            // Xavier-uniform on the flattened weight (docs/algorithm.md §2); the bias keeps PyTorch's default.
            patchEmbed = child("patch_embed", new Conv2d(b.child("patch_embed"), img.channels(), d, img.patch(), img.patch(), 0, 1, true,
                    Init.xavierUniform(fanIn, d)));
            cls = img.extraTokens() > 0 ? b.declare("cls_token", Shape.of(1, d), Init.normal(1.0)) : null;
        } else {
            patchEmbed = null;
            cls = null;
        }
        if (m instanceof ModalityConfig.Audio a) {
            int k = a.convPosKernel();
            for (int i = 0; i < a.convPosDepth(); i++) {
                convPos.add(child("conv_pos." + i, new Conv1d(b.child("conv_pos").child(Integer.toString(i)), d, d, k, 1, k / 2, a.convPosGroups(), true)));
            }
            alibiScale = b.declare("alibi_scale", Shape.of(enc.heads()), Init.constant(a.alibiScaleInit()));
        } else {
            alibiScale = null;
        }
        // Text has no context encoder at all (docs/algorithm.md §3.3): no LN, no dropout.
        prenetNorm = m instanceof ModalityConfig.Text ? null : child("prenet_norm", new LayerNorm(b.child("prenet_norm"), d, enc.normEps(), true));
        TransformerBlock.Dropouts drops = new TransformerBlock.Dropouts(enc.attentionDropout(), enc.encoderDropout(),
                enc.activationDropout(), enc.postMlpDropout());
        for (int i = 0; i < enc.prenetDepth(); i++) prenet.add(child("prenet." + i, block(b.child("prenet").child(Integer.toString(i)), drops)));
        for (int i = 0; i < enc.depth(); i++) blocks.add(child("blocks." + i, block(b.child("blocks").child(Integer.toString(i)), drops)));
    }

    private TransformerBlock block(ParameterStore.Builder b, TransformerBlock.Dropouts drops) {
        return new TransformerBlock(b, enc.dim(), enc.heads(), (int) enc.mlpRatio(), enc.normEps(), false, drops);
    }

    /** Image: patch conv of images [B, H, W, C] plus the fixed positions pos [T·D] → [B, T, D]. */
    Tensor patchEmbed(Tensor images, Tensor pos) {
        Tensor p = patchEmbed.forward(images);
        return F.addBroadcast(Views.reshape(p, p.dim(0), p.dim(1) * p.dim(2), p.dim(3)), pos);
    }

    /** Image: [CLS; x] for x [rows, n, D] (the CLS token has no position, docs/algorithm.md §3.1). */
    Tensor prependCls(Tensor x) {
        if (cls == null) return x;
        int rows = x.dim(0), n = x.dim(1), d = x.dim(2);
        // CLS broadcast to every slot, then the tokens written over slots 1..n: only slot 0 keeps it.
        Tensor base = F.addBroadcast(Tensor.zeros(x.device(), x.dtype(), rows, n + 1, d), cls.tensor());
        return F.scatterRows(x, Indices.iota(x.device(), rows, n, 1), base);
    }

    int extraTokens() { return cls == null ? 0 : 1; }

    /** A parameter of the built backbone as the compute reads it: inputs go to its device in its type. */
    Tensor anchor() { return blocks.get(0).attention().qkv().weight().compute(); }

    boolean hasConvPositions() { return !convPos.isEmpty(); }

    /** Audio: the conv positional encoder over a full-length sequence [rows, T, D]. */
    Tensor convPositions(Tensor full) {
        Tensor h = full;
        for (Conv1d c : convPos) h = F.gelu(F.layerNorm(c.forward(h), null, null, LN_EPS));
        return h;
    }

    /** Audio: the ALiBi bias for tokens at original {@code positions} [rows, n] (I32). */
    AttentionBias alibi(Tensor slopes, Tensor positions) {
        return alibiScale == null ? AttentionBias.NONE : new AttentionBias(slopes, alibiScale.tensor(), positions, null);
    }

    /**
     * Prenet LN → dropout → prenet blocks → main blocks (each skipped with probability layerdrop
     * in train mode only, docs/algorithm.md §2).
     */
    Encoded encode(Tensor x, AttentionBias bias) {
        Tensor h = x;
        if (prenetNorm != null) h = dropout(prenetNorm.forward(h), enc.prenetDropout());
        for (TransformerBlock b : prenet) h = b.forward(h, bias).x();
        List<Tensor> ffn = new ArrayList<>();
        for (TransformerBlock b : blocks) {
            if (isTraining() && enc.layerdrop() > 0 && random().nextUniform() < enc.layerdrop()) {
                ffn.add(null);
                continue;
            }
            TransformerBlock.Output o = b.forward(h, bias);
            h = o.x();
            ffn.add(o.ffn());
        }
        return new Encoded(h, ffn);
    }
}
