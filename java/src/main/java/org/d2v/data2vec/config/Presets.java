package org.d2v.data2vec.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Named configurations. The {@code *-base} presets hold the reference values of docs/algorithm.md §2–§8
 * (fairseq's base_{images,audio,text}_only_task.yaml); where code and paper disagree the choice
 * is documented in docs/data2vec.md. The {@code *-tiny} presets keep every mechanism but train
 * on a small CPU in minutes (on a kernel backend). The {@code *-micro} presets are smaller still:
 * a step takes a fraction of a second on the plain-Java reference backend (unit tests, CI smoke).
 *
 * <p>Batches: the base presets hold fairseq's global batch (per-GPU batch × world size of the
 * config, docs/algorithm.md §8) and its per-GPU batch as the per-device batch, so one device reaches the
 * reference's batch by accumulating micro-batches ({@code --update-freq}); the smaller presets
 * train on one device batch per update.
 */
public final class Presets {
    private Presets() {}

    private static final Map<String, Supplier<Data2VecConfig>> ALL = Map.of(
            "image-base", Presets::imageBase, "audio-base", Presets::audioBase, "text-base", Presets::textBase,
            "image-tiny", Presets::imageTiny, "audio-tiny", Presets::audioTiny, "text-tiny", Presets::textTiny,
            "image-micro", Presets::imageMicro, "audio-micro", Presets::audioMicro, "text-micro", Presets::textMicro);

    public static List<String> names() {
        return List.of("image-base", "audio-base", "text-base", "image-tiny", "audio-tiny", "text-tiny",
                "image-micro", "audio-micro", "text-micro");
    }

    public static Data2VecConfig named(String name) {
        Supplier<Data2VecConfig> s = ALL.get(name);
        if (s == null) throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + names());
        return s.get();
    }

    // ---- base (docs/algorithm.md §2–§8) ----------------------------------------------------------------------

    /** ViT-B: 2 prenet + 10 main blocks, 14×14 patches, M = 16, inverse block masks (R 0.8, A 0.07, B 3). */
    public static Data2VecConfig imageBase() {
        return new Data2VecConfig("image-base",
                new ModalityConfig.Image(224, 3, 16, 1),
                new EncoderConfig(768, 12, 10, 2, 4, 1e-6, 0, 0, 0, 0, 0, 0),
                new MaskConfig(0.8, 0.07, 3, true),
                new DecoderConfig(768, 3, 6, 16, true, 0, 1, 2.0),
                new EmaConfig(0.9998, 0.99999, 100_000),
                new LossConfig(10, true, true, Double.NaN, 0.01, 0, 0, 5000),
                new OptimConfig(1e-3, 0.9, 0.95, 1e-8, 0.05, 50_040, 375_300, 4, false),
                16, 256, 1, 16); // fairseq: 16 images per GPU × 16 GPUs
    }

    /**
     * wav2vec-style stem (stride 320), 12 blocks, conv positions + ALiBi, M = 8, spans (R 0.5, A 0.05, B 5).
     * Data as fairseq's task: max_sample_size 320,000 (20 s), min_sample_size 32,000 (2 s); batch 3
     * gives max_tokens 960,000 (fairseq's base_audio_only_task: 1,000,000 per GPU).
     */
    public static Data2VecConfig audioBase() {
        List<ModalityConfig.ConvLayer> stem = new ArrayList<>();
        stem.add(new ModalityConfig.ConvLayer(512, 10, 5));
        for (int i = 0; i < 4; i++) stem.add(new ModalityConfig.ConvLayer(512, 3, 2));
        for (int i = 0; i < 2; i++) stem.add(new ModalityConfig.ConvLayer(512, 2, 2));
        return new Data2VecConfig("audio-base",
                new ModalityConfig.Audio(320_000, stem, 5, 95, 16, 1.0, 32_000),
                new EncoderConfig(768, 12, 12, 0, 4, 1e-5, 0.1, 0.1, 0, 0.1, 0.1, 0.05),
                new MaskConfig(0.5, 0.05, 5, false),
                new DecoderConfig(384, 7, 4, 16, true, 0.1, 1, 2.0),
                new EmaConfig(0.999, 0.99999, 75_000),
                new LossConfig(8, true, false, Double.NaN, 0, 0.1, 0.01, 5000),
                new OptimConfig(7.5e-4, 0.9, 0.98, 1e-6, 0.01, 8000, 400_000, 0, false),
                8, 24, 1, 3); // fairseq: max_tokens 1,000,000 per GPU × 8 GPUs (here 3 × 320,000 per device)
    }

    /** RoBERTa-sized: 512 tokens, 12 blocks, M = 8, random masking R = 0.48 (config; paper 0.42). */
    public static Data2VecConfig textBase() {
        return new Data2VecConfig("text-base",
                // fairseq's learned positions are padding-aware: 512 + pad (1) + 1 rows.
                new ModalityConfig.Text(512, 50265, 514, 1, 0.1),
                new EncoderConfig(768, 12, 12, 0, 4, 1e-5, 0.1, 0.1, 0, 0.1, 0, 0),
                new MaskConfig(0.48, 0, 1, false),
                new DecoderConfig(768, 9, 5, 1, false, 0.1, 2, 2.0),
                new EmaConfig(0.9999, 0.99999, 100_000),
                new LossConfig(12, true, false, 1.0, 0, 0.1, 0.01, 5000),
                new OptimConfig(2e-4, 0.9, 0.98, 1e-6, 0.01, 4000, 1_000_000, 1.0, false),
                8, 64, 1, 4); // fairseq: 4 sequences per GPU × 16 GPUs
    }

    // ---- tiny (CPU minutes) ---------------------------------------------------------------------

    /** 28×28 grey (Fashion-MNIST), patch 4 → 7×7, D 128, 1 prenet + 4 main blocks, M = 4. */
    public static Data2VecConfig imageTiny() {
        return new Data2VecConfig("image-tiny",
                new ModalityConfig.Image(28, 1, 4, 1),
                new EncoderConfig(128, 4, 4, 1, 4, 1e-6, 0, 0, 0, 0, 0, 0),
                new MaskConfig(0.75, 0.1, 2, true),
                new DecoderConfig(64, 3, 2, 4, true, 0, 1, 2.0),
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(4, true, true, Double.NaN, 0.01, 0, 0, 5000),
                new OptimConfig(1e-3, 0.9, 0.95, 1e-8, 0.05, 10, 1000, 4, false),
                4, 4, 1);
    }

    /** 1 s at 16 kHz (min_sample_size 0.25 s), 6-layer stem of 32 channels (stride 160 → 99 frames), D 128, 4 blocks, M = 4. */
    public static Data2VecConfig audioTiny() {
        List<ModalityConfig.ConvLayer> stem = List.of(
                new ModalityConfig.ConvLayer(32, 10, 5), new ModalityConfig.ConvLayer(32, 3, 2),
                new ModalityConfig.ConvLayer(32, 3, 2), new ModalityConfig.ConvLayer(32, 3, 2),
                new ModalityConfig.ConvLayer(32, 2, 2), new ModalityConfig.ConvLayer(32, 2, 2));
        return new Data2VecConfig("audio-tiny",
                new ModalityConfig.Audio(16_000, stem, 2, 18, 16, 1.0, 4_000),
                new EncoderConfig(128, 4, 4, 0, 4, 1e-5, 0.1, 0.1, 0, 0.1, 0.1, 0.05),
                new MaskConfig(0.5, 0.05, 5, false),
                new DecoderConfig(64, 7, 2, 16, true, 0.1, 1, 2.0),
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(3, true, false, Double.NaN, 0, 0.1, 0.01, 5000),
                new OptimConfig(1e-3, 0.9, 0.98, 1e-6, 0.01, 10, 1000, 0, false),
                4, 2, 1);
    }

    /** 64 tokens, vocabulary 4096, D 128, 4 blocks, M = 4, random masking R = 0.48. */
    public static Data2VecConfig textTiny() {
        return new Data2VecConfig("text-tiny",
                new ModalityConfig.Text(64, 4096, 66, 1, 0.1),
                new EncoderConfig(128, 4, 4, 0, 4, 1e-5, 0.1, 0.1, 0, 0.1, 0, 0),
                new MaskConfig(0.48, 0, 1, false),
                new DecoderConfig(128, 5, 2, 1, false, 0.1, 2, 2.0),
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(4, true, false, 1.0, 0, 0.1, 0.01, 5000),
                new OptimConfig(1e-3, 0.9, 0.98, 1e-6, 0.01, 10, 1000, 1.0, false),
                4, 4, 1);
    }

    // ---- micro (reference-backend tests) --------------------------------------------------------

    /** 28×28 grey, patch 7 → 4×4, D 32, 1 prenet + 2 main blocks, M = 4, 2 images. */
    public static Data2VecConfig imageMicro() {
        return new Data2VecConfig("image-micro",
                new ModalityConfig.Image(28, 1, 7, 1),
                new EncoderConfig(32, 2, 2, 1, 4, 1e-6, 0, 0, 0, 0, 0, 0),
                new MaskConfig(0.75, 0.1, 2, true),
                new DecoderConfig(16, 3, 2, 4, true, 0, 1, 2.0),
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(2, true, true, Double.NaN, 0.01, 0, 0, 5000),
                new OptimConfig(2e-3, 0.9, 0.95, 1e-8, 0.05, 5, 1000, 4, false),
                4, 2, 1);
    }

    /** 0.25 s at 16 kHz (min_sample_size 0.125 s), 6-layer stem of 16 channels (24 frames), D 32, 2 blocks, M = 4. */
    public static Data2VecConfig audioMicro() {
        List<ModalityConfig.ConvLayer> stem = List.of(
                new ModalityConfig.ConvLayer(16, 10, 5), new ModalityConfig.ConvLayer(16, 3, 2),
                new ModalityConfig.ConvLayer(16, 3, 2), new ModalityConfig.ConvLayer(16, 3, 2),
                new ModalityConfig.ConvLayer(16, 2, 2), new ModalityConfig.ConvLayer(16, 2, 2));
        return new Data2VecConfig("audio-micro",
                new ModalityConfig.Audio(4000, stem, 2, 10, 4, 1.0, 2_000),
                new EncoderConfig(32, 2, 2, 0, 4, 1e-5, 0.1, 0.1, 0, 0.1, 0.1, 0.05),
                new MaskConfig(0.5, 0.05, 5, false),
                new DecoderConfig(16, 5, 2, 4, true, 0.1, 1, 2.0),
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(2, true, false, Double.NaN, 0, 0.1, 0.01, 5000),
                new OptimConfig(2e-3, 0.9, 0.98, 1e-6, 0.01, 5, 1000, 0, false),
                4, 2, 1);
    }

    /** 32 tokens, vocabulary 512, D 32, 2 blocks, M = 4. */
    public static Data2VecConfig textMicro() {
        return new Data2VecConfig("text-micro",
                new ModalityConfig.Text(32, 512, 34, 1, 0.1),
                new EncoderConfig(32, 2, 2, 0, 4, 1e-5, 0.1, 0.1, 0, 0.1, 0, 0),
                new MaskConfig(0.48, 0, 1, false),
                new DecoderConfig(16, 5, 2, 1, false, 0.1, 2, 2.0),
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(2, true, false, 1.0, 0, 0.1, 0.01, 5000),
                new OptimConfig(5e-3, 0.9, 0.98, 1e-6, 0.01, 5, 1000, 1.0, false),
                4, 2, 1);
    }
}
