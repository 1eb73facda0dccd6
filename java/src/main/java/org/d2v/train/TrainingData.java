package org.d2v.train;

import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;

/** Opens the {@link BatchSource} that {@code --data} names for a configuration. */
public final class TrainingData {
    public static final String GENERATED = "generated";

    private TrainingData() {}

    /** {@code data} is "generated" or a data folder; batches have {@code config.batchSize()} samples shaped for its modality. */
    public static BatchSource open(String data, Data2VecConfig config, long seed) {
        int b = config.batchSize();
        if (GENERATED.equals(data)) {
            return switch (kind(config.modality())) {
                case "image" -> {
                    ModalityConfig.Image m = (ModalityConfig.Image) config.modality();
                    yield GeneratedSource.images(b, m.size(), m.channels(), seed);
                }
                case "audio" -> GeneratedSource.audio(b, ((ModalityConfig.Audio) config.modality()).samples(), seed);
                default -> {
                    ModalityConfig.Text m = (ModalityConfig.Text) config.modality();
                    yield GeneratedSource.text(b, m.length(), m.vocab(), seed);
                }
            };
        }
        throw new IllegalArgumentException("--data " + data + ": reading real data sets for pretraining is not wired into this build yet; use --data generated");
    }

    /** "image", "audio" or "text". */
    public static String kind(ModalityConfig m) {
        if (m instanceof ModalityConfig.Image) return "image";
        if (m instanceof ModalityConfig.Audio) return "audio";
        return "text";
    }
}
