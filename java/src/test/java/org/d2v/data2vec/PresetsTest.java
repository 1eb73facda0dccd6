package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.InverseBlockMasker2d;
import org.junit.jupiter.api.Test;

/** The base presets hold the reference values of docs/algorithm.md §2–§8; their sizes, counted without allocating. */
class PresetsTest {
    /** One post-LN block: qkv, proj, fc1, fc2 (all with bias) and two affine LayerNorms. */
    static long block(long d, long mlp) { return 3 * d * d + 3 * d + d * d + d + 2 * d * mlp + mlp + d + 4 * d; }

    @Test
    void imageBaseValues() {
        Data2VecConfig c = Presets.imageBase();
        ModalityConfig.Image img = (ModalityConfig.Image) c.modality();
        assertEquals(196, img.tokens());
        assertEquals(10, c.encoder().depth());
        assertEquals(2, c.encoder().prenetDepth());
        assertEquals(1e-6, c.encoder().normEps());
        assertEquals(0.0, c.encoder().postMlpDropout());
        assertEquals(10, c.loss().topK());
        assertTrue(c.loss().layerNormTargets());
        assertEquals(0.01, c.loss().clsWeight());
        assertEquals(1 / Math.sqrt(768), c.loss().scaleFor(768), 1e-15);
        assertEquals(16, c.clones());
        assertEquals(256, c.batchSize(), "fairseq's global batch: 16 images per GPU x 16 GPUs");
        assertEquals(16, c.deviceBatch(), "fairseq's per-GPU batch");
        assertEquals(0.8, c.mask().prob());
        assertEquals(0.07, c.mask().adjust());
        assertEquals(3, c.mask().length());
        assertTrue(c.mask().inverse());
        assertEquals(39, new InverseBlockMasker2d(14, 14, 0.8, 0.07, 3).visible(), "39 of 196 patches visible");
        assertEquals(768, c.decoder().dim());
        assertEquals(3, c.decoder().kernel());
        assertEquals(6, c.decoder().layers());
        assertEquals(16, c.decoder().groups());
        assertEquals(0.9998, c.ema().start());
        assertEquals(0.99999, c.ema().end());
        assertEquals(100_000, c.ema().annealSteps());
        assertEquals(1e-3, c.optim().lr());
        assertEquals(0.95, c.optim().beta2());
        assertEquals(0.05, c.optim().weightDecay());
        assertEquals(50_040, c.optim().warmup());
        assertEquals(375_300, c.optim().maxUpdate());
        assertEquals(4.0, c.optim().clipNorm());
    }

    @Test
    void audioBaseValues() {
        Data2VecConfig c = Presets.audioBase();
        ModalityConfig.Audio a = (ModalityConfig.Audio) c.modality();
        assertEquals(24, c.batchSize(), "8 GPUs x about 1,000,000 samples (here 3 clips of 320,000)");
        assertEquals(3, c.deviceBatch());
        assertEquals(999, a.framesFor(320_000), "20 s gives 999 frames");
        assertEquals(99, a.framesFor(32_000), "2 s gives 99 frames");
        assertEquals(19, a.convPosKernel());
        assertEquals(16, a.convPosGroups());
        assertEquals(0.05, c.encoder().layerdrop());
        assertEquals(0.1, c.encoder().prenetDropout());
        assertEquals(1e-5, c.encoder().normEps());
        assertEquals(8, c.loss().topK());
        assertFalse(c.loss().layerNormTargets());
        assertEquals(0.1, c.loss().minTargetStd());
        assertEquals(0.01, c.loss().minPredStd());
        assertEquals(5000, c.loss().guardAfterStep());
        assertEquals(8, c.clones());
        assertEquals(0.5, c.mask().prob());
        assertEquals(5, c.mask().length());
        assertFalse(c.mask().inverse());
        assertEquals(384, c.decoder().dim());
        assertEquals(7, c.decoder().kernel());
        assertEquals(4, c.decoder().layers());
        assertEquals(0.999, c.ema().start());
        assertEquals(75_000, c.ema().annealSteps());
        assertEquals(7.5e-4, c.optim().lr());
        assertEquals(1e-6, c.optim().eps());
        assertEquals(0.0, c.optim().clipNorm());
    }

    @Test
    void textBaseValues() {
        Data2VecConfig c = Presets.textBase();
        assertEquals(512, c.modality().tokens());
        assertEquals(64, c.batchSize(), "4 sequences per GPU x 16 GPUs");
        assertEquals(4, c.deviceBatch());
        assertEquals(4, Presets.textTiny().deviceBatch(), "the smaller presets: one device takes the whole batch");
        assertEquals(8, Presets.textTiny().withBatchSize(8).deviceBatch(), "... and keeps doing so");
        assertEquals(4, c.withBatchSize(128).deviceBatch(), "the base presets keep their per-device batch");
        assertEquals(0, c.encoder().prenetDepth());
        assertEquals(12, c.loss().topK());
        assertEquals(1.0, c.loss().scaleFor(768));
        assertEquals(0.48, c.mask().prob());
        assertEquals(1, c.mask().length());
        assertFalse(c.decoder().residual());
        assertEquals(9, c.decoder().kernel());
        assertEquals(5, c.decoder().layers());
        assertEquals(1, c.decoder().groups());
        assertEquals(2, c.decoder().projectionLayers());
        assertEquals(0.9999, c.ema().start());
        assertEquals(2e-4, c.optim().lr());
        assertEquals(1.0, c.optim().clipNorm());
    }

    @Test
    void emaScheduleIsLinearThenFlat() {
        var e = Presets.imageBase().ema();
        assertEquals(0.9998 + (0.99999 - 0.9998) * 0.5, e.decay(50_000), 1e-12);
        assertEquals(0.99999, e.decay(100_000));
        assertEquals(0.99999, e.decay(300_000));
    }

    @Test
    void unknownPresetIsNamed() {
        var ex = assertThrows(IllegalArgumentException.class, () -> Presets.named("image-huge"));
        assertTrue(ex.getMessage().contains("image-huge"));
        for (String n : Presets.names()) assertEquals(n, Presets.named(n).name());
    }

    @Test
    void imageBaseParameterCounts() {
        Map<String, Long> c = Data2Vec.countParameters(Presets.imageBase());
        System.out.println("image-base parameters: " + c + " total " + total(c));
        long encoder = c.get("patch_embed") + c.get("cls_token") + c.get("prenet_norm") + c.get("prenet") + c.get("blocks");
        assertEquals(768L * 3 * 16 * 16 + 768, c.get("patch_embed"));
        assertEquals(768, c.get("cls_token"));
        assertEquals(2 * block(768, 3072), c.get("prenet"));
        assertEquals(10 * block(768, 3072), c.get("blocks"));
        assertEquals(85_647_360L, encoder, "ViT-B encoder (no head, fixed positions) ≈ 86M");
        assertEquals(6 * (768L * 9 * 48 + 768) + 768L * 768 + 768, c.get("decoder"));
    }

    @Test
    void audioBaseParameterCounts() {
        Map<String, Long> c = Data2Vec.countParameters(Presets.audioBase());
        System.out.println("audio-base parameters: " + c + " total " + total(c));
        long stem = 512L * 10 + 4 * 512L * 3 * 512 + 2 * 512L * 2 * 512 + 7 * 2 * 512L;
        assertEquals(stem, c.get("feature_extractor"));
        assertEquals(2 * 512L + 512L * 768 + 768, c.get("project_features"));
        assertEquals(5 * (768L * 19 * 48 + 768), c.get("conv_pos"));
        assertEquals(12, c.get("alibi_scale"));
        assertEquals(12 * block(768, 3072), c.get("blocks"));
        assertEquals((384L * 7 * 48 + 384) + 3 * (384L * 7 * 24 + 384) + 384L * 768 + 768, c.get("decoder"));
    }

    @Test
    void textBaseParameterCounts() {
        Map<String, Long> c = Data2Vec.countParameters(Presets.textBase());
        System.out.println("text-base parameters: " + c + " total " + total(c));
        assertEquals(50265L * 768, c.get("embed_tokens"));
        assertEquals(514L * 768, c.get("embed_positions"));
        assertEquals(12 * block(768, 3072), c.get("blocks"));
        assertEquals(5 * (768L * 9 * 768 + 768) + (768L * 1536 + 1536) + (1536L * 768 + 768), c.get("decoder"));
    }

    @Test
    void smallPresetsBuildWithTheDryRunCounts() {
        for (String name : new String[] {"image-tiny", "audio-tiny", "text-tiny", "image-micro", "audio-micro", "text-micro"}) {
            Data2VecConfig cfg = Presets.named(name);
            Map<String, Long> dry = Data2Vec.countParameters(cfg);
            try (Data2Vec m = new Data2Vec(new org.d2v.backend.reference.ReferenceDevice(), cfg)) {
                assertEquals(dry, m.parameterCounts(), name);
                assertEquals(total(dry), m.parameters().count(), name);
                System.out.println(name + " parameters: " + dry + " total " + total(dry) + ", tokens " + cfg.modality().tokens());
            }
        }
    }

    private static long total(Map<String, Long> c) { return c.values().stream().mapToLong(Long::longValue).sum(); }
}
