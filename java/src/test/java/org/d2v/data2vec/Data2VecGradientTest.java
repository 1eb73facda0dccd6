package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.d2v.autograd.Tape;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Finite differences in float64 on the full micro models: the loss gradient of a few parameters
 * of every part (local encoder, positions, CLS, prenet, blocks, decoder) matches backprop. Masks,
 * dropout and layerdrop are fixed by replaying the same random streams. Parameters that also feed
 * the teacher (the audio stem, the text embeddings) are left out: targets are stop-gradient.
 */
class Data2VecGradientTest {
    @Test
    void imageGradients() {
        check(Presets.imageMicro(), "patch_embed.weight", "patch_embed.bias", "cls_token", "prenet_norm.weight",
                "prenet.0.attn.qkv.weight", "blocks.1.mlp.fc1.weight", "blocks.0.norm2.bias", "decoder.layers.0.weight",
                "decoder.layers.1.bias", "decoder.proj.weight");
    }

    @Test
    void audioGradients() {
        check(Presets.audioMicro(), "alibi_scale", "conv_pos.0.weight", "conv_pos.1.bias", "prenet_norm.bias",
                "blocks.0.attn.proj.weight", "blocks.1.mlp.fc2.weight", "decoder.layers.0.weight", "decoder.proj.bias");
    }

    @Test
    void textGradients() {
        check(Presets.textMicro(), "blocks.0.attn.qkv.bias", "blocks.1.norm1.weight", "decoder.layers.1.weight",
                "decoder.proj.0.weight", "decoder.proj.2.weight");
    }

    /** With the teacher on the tokens only (docs/algorithm.md §5) the position table feeds the student alone: its gradient checks too. */
    @Test
    void textGradientsWithTheTeacherOnTokens() {
        Data2VecConfig c = Presets.textMicro();
        c = c.withModality(((ModalityConfig.Text) c.modality()).withTeacherInput(ModalityConfig.TeacherInput.TOKENS));
        check(c, "embed_positions.weight", "blocks.0.attn.qkv.bias", "blocks.1.norm1.weight", "decoder.layers.1.weight", "decoder.proj.2.weight");
    }

    /** Blocks at random start rows of the position table (position-offsets), replayed from the same stream: the shifted lookup's gradient checks too. */
    @Test
    void textGradientsWithPositionOffsets() {
        Data2VecConfig c = Presets.textMicro();
        ModalityConfig.Text t = (ModalityConfig.Text) c.modality();
        c = c.withModality(t.withTeacherInput(ModalityConfig.TeacherInput.TOKENS).withMaxPositions(t.maxPositions() + 8).withPositionOffsets(true));
        check(c, "embed_positions.weight", "blocks.0.attn.qkv.bias", "decoder.layers.1.weight");
    }

    /** With the teacher's own EMA copy of the local encoder, the student's embeddings, positions and LN feed the student alone. */
    @Test
    void textGradientsWithTheTeacherOnItsOwnLocalEncoder() {
        Data2VecConfig c = Presets.textMicro();
        c = c.withModality(((ModalityConfig.Text) c.modality()).withTeacherInput(ModalityConfig.TeacherInput.EMA));
        check(c, "embed_tokens.weight", "embed_positions.weight", "embed_norm.weight", "embed_norm.bias", "blocks.1.mlp.fc1.weight", "decoder.proj.0.weight");
    }

    private static void check(Data2VecConfig cfg, String... names) {
        ReferenceDevice dev = new ReferenceDevice(DType.F64);
        try (Data2Vec model = new Data2Vec(dev, cfg, DType.F64)) {
            Batch batch = TinyData.batch(cfg, new Random(3));
            int rows = batch.size() * cfg.clones();
            MaskBatch masks = model.masker().sample(rows, model.tokens(batch), new RandomStream(5));
            model.parameters().zeroGrads();
            double base;
            try (Scope s = Scope.open(); Tape tape = Tape.record()) {
                Data2Vec.Forward f = model.forwardTraining(batch, masks, new RandomStream(9));
                base = f.loss().item();
                tape.backward(f.loss());
            }
            Random pick = new Random(1);
            int checked = 0;
            for (String name : names) {
                Tensor p = model.parameters().get(name);
                double[] grad = p.grad().toDoubles();
                for (int probe = 0; probe < 2; probe++) {
                    int i = pick.nextInt((int) p.numel());
                    double fd = finiteDifference(model, batch, masks, p, i);
                    double tol = 1e-6 + 1e-4 * Math.abs(fd);
                    assertEquals(fd, grad[i], tol, cfg.name() + ": d loss / d " + name + "[" + i + "]");
                    if (Math.abs(fd) > 1e-8) checked++;
                }
            }
            assertTrue(checked >= names.length, cfg.name() + ": too few non-zero gradients checked (" + checked + ")");
            System.out.printf("%s: %d gradients match finite differences (loss %.6f)%n", cfg.name(), 2 * names.length, base);
        }
    }

    private static double finiteDifference(Data2Vec model, Batch batch, MaskBatch masks, Tensor p, int i) {
        double h = 1e-5;
        double[] v = p.toDoubles();
        double orig = v[i];
        v[i] = orig + h;
        p.copyFrom(v);
        double plus = loss(model, batch, masks);
        v[i] = orig - h;
        p.copyFrom(v);
        double minus = loss(model, batch, masks);
        v[i] = orig;
        p.copyFrom(v);
        return (plus - minus) / (2 * h);
    }

    private static double loss(Data2Vec model, Batch batch, MaskBatch masks) {
        try (Scope s = Scope.open()) {
            return model.forwardTraining(batch, masks, new RandomStream(9)).loss().item();
        }
    }
}
