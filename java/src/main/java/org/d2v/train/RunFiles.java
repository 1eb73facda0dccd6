package org.d2v.train;

import java.util.function.Function;
import org.d2v.data2vec.config.Data2VecConfig;

/**
 * What a run folder holds besides checkpoints and metrics, and how a run's model configuration is
 * rebuilt from its manifest (preset name + the options that change tensor shapes).
 */
public final class RunFiles {
    /** The BPE tokenizer a text run was trained with, saved with the model. */
    public static final String TOKENIZER = "tokenizer-bpe.txt";
    /** Manifest option naming the regression target: "teacher" (data2vec 2.0) or "pixels" (the MAE-style ablation). */
    public static final String TARGETS = "--targets";

    private RunFiles() {}

    /** The model configuration of a checkpoint: its preset (looked up by {@code presets}) with the shape-changing options applied. */
    public static Data2VecConfig modelConfig(CheckpointManifest m, Function<String, Data2VecConfig> presets) {
        Data2VecConfig cfg = presets.apply(m.preset());
        return "pixels".equals(m.config().get(TARGETS)) ? cfg.withPixelTargets() : cfg;
    }
}
