package org.d2v.demo;

import java.util.List;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.DecoderConfig;
import org.d2v.data2vec.config.EmaConfig;
import org.d2v.data2vec.config.EncoderConfig;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.data2vec.config.MaskConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.OptimConfig;
import org.d2v.data2vec.config.Presets;

/**
 * The demo's models: smaller than the {@code *-tiny} presets because the demo has minutes of a
 * shared CPU, not hours, and without dropout, which only slows a run this short. Patch 7 gives a 4×4 grid (16 tokens, 3× fewer than patch 4), which cuts every matmul
 * and attention by that factor; every mechanism of data2vec 2.0 stays (CLS token, inverse block
 * masks, M clones, conv decoder, EMA teacher, top-K layer-averaged targets). A step's cost grows
 * with the batch (compute-bound, measured), so batch 32 gives twice the updates of 64 per minute;
 * a run of minutes needs updates more than large batches.
 */
public final class DemoPresets {
    public static final String IMAGE_DEMO = "image-demo", AUDIO_DEMO = "audio-demo", TEXT_DEMO = "text-demo";

    private DemoPresets() {}

    /** {@code image-demo}, {@code audio-demo}, {@code text-demo}, or one of {@link Presets#names()}. */
    public static Data2VecConfig named(String name) {
        return switch (name) {
            case IMAGE_DEMO -> imageDemo();
            case AUDIO_DEMO -> audioDemo();
            case TEXT_DEMO -> textDemo();
            default -> Presets.named(name);
        };
    }

    /** 28×28 grey, patch 7 → 4×4, D 96, 1 prenet + 3 main blocks, M = 4, batch 32. */
    public static Data2VecConfig imageDemo() {
        return new Data2VecConfig(IMAGE_DEMO,
                new ModalityConfig.Image(28, 1, 7, 1),
                new EncoderConfig(96, 4, 3, 1, 4, 1e-6, 0, 0, 0, 0, 0, 0),
                new MaskConfig(0.75, 0.1, 2, true),
                new DecoderConfig(64, 3, 2, 4, true, 0, 1, 2.0),
                // A short run: the teacher must follow the student quickly; DemoRun anneals over the run.
                new EmaConfig(0.99, 0.999, 1000),
                new LossConfig(3, true, true, Double.NaN, 0.01, 0, 0, 5000),
                new OptimConfig(2e-3, 0.9, 0.95, 1e-8, 0.05, 20, 1000, 4, false),
                4, 32, 1);
    }

    /**
     * 0.5 s crops at 16 kHz, the 6-layer stem of audio-tiny (32 channels, stride 160 → 49 frames),
     * D 96, 3 blocks, conv positions + ALiBi, spans (R 0.5, B 5), M = 4, batch 16, EMA 0.999 → 0.9999.
     */
    public static Data2VecConfig audioDemo() {
        List<ModalityConfig.ConvLayer> stem = List.of(
                new ModalityConfig.ConvLayer(32, 10, 5), new ModalityConfig.ConvLayer(32, 3, 2),
                new ModalityConfig.ConvLayer(32, 3, 2), new ModalityConfig.ConvLayer(32, 3, 2),
                new ModalityConfig.ConvLayer(32, 2, 2), new ModalityConfig.ConvLayer(32, 2, 2));
        return new Data2VecConfig(AUDIO_DEMO,
                new ModalityConfig.Audio(8_000, stem, 2, 18, 16, 1.0),
                new EncoderConfig(96, 4, 3, 0, 4, 1e-5, 0, 0, 0, 0, 0, 0),
                new MaskConfig(0.5, 0.05, 5, false),
                new DecoderConfig(64, 7, 2, 16, true, 0, 1, 2.0),
                // A teacher as fast as image-demo's (0.99 -> 0.999) let the audio targets collapse into what
                // is trivially predictable (loss -> 0.04, probe back to random init); 10x slower keeps them
                // informative (held-out-voice probe: 0.53 after 12 minutes with the fast teacher, 0.67 after 6 with this one).
                new EmaConfig(0.999, 0.9999, 1000),
                new LossConfig(3, true, false, Double.NaN, 0, 0, 0, 5000),
                new OptimConfig(2e-3, 0.9, 0.98, 1e-6, 0.01, 20, 1000, 4, false),
                4, 16, 1);
    }

    /** Blocks of 64 BPE tokens (vocabulary 4096), D 96, 3 blocks, random masking R 0.48, M = 4, batch 16, EMA 0.999 → 0.9999. */
    public static Data2VecConfig textDemo() {
        return new Data2VecConfig(TEXT_DEMO,
                new ModalityConfig.Text(64, 4096, 66, 1, 0),
                new EncoderConfig(96, 4, 3, 0, 4, 1e-5, 0, 0, 0, 0, 0, 0),
                new MaskConfig(0.48, 0, 1, false),
                new DecoderConfig(96, 5, 2, 1, false, 0, 2, 2.0),
                new EmaConfig(0.999, 0.9999, 1000), // slow, as audio-demo's (with 0.99 -> 0.999 the quick probe fell during the run)
                new LossConfig(3, true, false, 1.0, 0, 0, 0, 5000),
                new OptimConfig(2e-3, 0.9, 0.98, 1e-6, 0.01, 20, 1000, 1.0, false),
                4, 16, 1);
    }

    /** {@code c} with its EMA rise from τ0 to τe spread over {@code steps} updates (a budgeted run's length). */
    public static Data2VecConfig annealOver(Data2VecConfig c, long steps) {
        return c.withEma(new EmaConfig(c.ema().start(), c.ema().end(), Math.max(1, steps)));
    }
}
