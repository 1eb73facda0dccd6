package org.d2v.data2vec;

import java.util.List;
import org.d2v.autograd.F;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.nn.AttentionBias;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The student encoder of one modality: its local encoder (audio conv stem, text embeddings; the
 * image patch embedder lives in the backbone because the teacher mirrors it) and the backbone.
 * {@link Data2Vec} trains it with masks; {@link #encode} runs it on whole, unmasked inputs for
 * probes and fine-tuning. Parameters carry the student's names ({@code patch_embed.*},
 * {@code feature_extractor.*}, {@code embed_tokens.*}, {@code blocks.i.*}, …), so a checkpoint's
 * {@code student.*} tensors load into any model built on an Encoder.
 */
public final class Encoder extends Module {
    /**
     * Encoder output on whole inputs. Each accessor drops the extra tokens (the image CLS) when
     * called, so a caller pays only for the parts it reads (fine-tuning reads {@link #tokens} alone).
     */
    public static final class Output {
        private final Tensor input, x;
        private final List<Tensor> ffn;
        private final int extra;

        private Output(Tensor input, Backbone.Encoded e, int extra) {
            this.input = input;
            this.x = e.x();
            this.ffn = e.ffn();
            this.extra = extra;
        }

        /** The final tokens [B, T, D]. */
        public Tensor tokens() { return drop(x); }

        /** The CLS output [B, D], or null for a modality without one. */
        public Tensor cls() {
            return extra == 0 ? null : F.reshape(F.gatherRows(x, Indices.iota(x.device(), x.dim(0), 1, 0)), x.dim(0), x.dim(2));
        }

        /** What entered the backbone: the local features with positions [B, T, D]. */
        public Tensor input() { return drop(input); }

        /** Each main block's FFN output [B, T, D] (null for a block layerdrop skipped). */
        public List<Tensor> ffn() { return ffn.stream().map(a -> a == null ? null : drop(a)).toList(); }

        private Tensor drop(Tensor t) { return extra == 0 ? t : Targets.dropLeading(t, extra); }
    }

    private final Data2VecConfig cfg;
    private final AudioFeatures audio;
    private final TextFeatures text;
    private final Backbone backbone;

    /** Declares the local encoder, then the (tracked) backbone: the order of the student's store. */
    public Encoder(ParameterStore.Builder b, Data2VecConfig cfg) {
        this.cfg = cfg;
        ModalityConfig m = cfg.modality();
        int dim = cfg.encoder().dim();
        audio = m instanceof ModalityConfig.Audio a ? child("audio", new AudioFeatures(b, a, dim)) : null;
        text = m instanceof ModalityConfig.Text t ? child("text", new TextFeatures(b, t, dim)) : null;
        backbone = child("backbone", new Backbone(b, cfg));
    }

    Data2VecConfig config() { return cfg; }

    AudioFeatures audio() { return audio; }

    TextFeatures text() { return text; }

    Backbone backbone() { return backbone; }

    /** The modality's extra tokens (the image CLS): 0 or 1. */
    public int extraTokens() { return backbone.extraTokens(); }

    /**
     * The encoder on unmasked input (docs/algorithm.md §10: {@code mask=False}), differentiable. Dropout and
     * layerdrop follow the module's mode; with layerdrop a skipped block's FFN entry is null.
     */
    public Output encode(Batch batch) {
        ModalityConfig m = cfg.modality();
        Tensor local;
        AttentionBias bias = AttentionBias.NONE;
        if (batch instanceof Batch.Images b && m instanceof ModalityConfig.Image img) {
            checkImage(b, img);
            Tensor images = upload(b.pixels(), b.size(), b.height(), b.width(), b.channels());
            Tensor pos = constant(SinCos2d.table(cfg.encoder().dim(), img.grid(), img.grid()), images);
            local = backbone.prependCls(backbone.patchEmbed(images, pos));
        } else if (batch instanceof Batch.Audio b && audio != null) {
            local = audio.forward(upload(b.waves(), b.size(), b.samples()));
            local = F.add(local, backbone.convPositions(local));
            Tensor slopes = constant(AttentionBias.slopes(cfg.encoder().heads()), local);
            bias = backbone.alibi(slopes, Indices.iota(local.device(), b.size(), local.dim(1), 0));
        } else if (batch instanceof Batch.Text b && text != null) {
            local = text.forward(Tensor.ofInts(backbone.anchor().device(), Shape.of(b.size(), b.length()), b.tokens()));
        } else {
            throw new IllegalArgumentException(cfg.name() + " cannot encode " + batch.getClass().getSimpleName() + " batches");
        }
        return new Output(local, backbone.encode(local, bias), backbone.extraTokens());
    }

    /** Mean over the tokens of {@link #encode} (the fine-tuning pooling of docs/algorithm.md §10): [B, D]. */
    public Tensor pooled(Batch batch) { return F.meanOverTime(encode(batch).tokens()); }

    private static void checkImage(Batch.Images b, ModalityConfig.Image img) {
        if (b.height() != img.size() || b.width() != img.size() || b.channels() != img.channels()) {
            throw new IllegalArgumentException("the model wants " + img.size() + "×" + img.size() + "×" + img.channels()
                    + " images, got " + b.height() + "×" + b.width() + "×" + b.channels());
        }
    }

    /** Host values as a tensor on the parameters' device, in their type. */
    private Tensor upload(float[] values, int... dims) {
        Tensor anchor = backbone.anchor();
        double[] v = new double[values.length];
        for (int i = 0; i < v.length; i++) v[i] = values[i];
        return Tensor.of(anchor.device(), anchor.dtype(), Shape.of(dims), v);
    }

    /** A fixed table (positions, ALiBi slopes), kept in the compute dtype of {@code like}'s storage (fp32 for bf16). */
    private static Tensor constant(double[] values, Tensor like) {
        return Tensor.of(like.device(), like.dtype().compute(), Shape.of(values.length), values);
    }
}
