package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.d2v.data.audio.SpeechSets;
import org.d2v.data.image.LabeledImages;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Document;
import org.d2v.data.text.TextSets;
import org.d2v.data.text.TokenBlocks;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.eval.ProbeTask;
import org.d2v.train.BatchSource;
import org.d2v.train.RunFiles;
import org.d2v.train.TrainingData;

/**
 * What one demo run pretrains on and is judged by: a pretraining source for any configuration of
 * its modality (read once, opened per model), the probe tasks (the first is also probed quickly
 * during pretraining), images for the figures (image runs; null otherwise), and files copied
 * into the run folder by name (a text run's tokenizer, saved with the model).
 */
public record DemoData(String description, Pretraining pretraining, List<ProbeTask> tasks, LabeledImages figureImages,
                       Map<String, Path> runFiles) {
    /** Opens a fresh, seeded pretraining source for a model configuration. */
    @FunctionalInterface
    public interface Pretraining {
        BatchSource open(Data2VecConfig cfg, long seed);
    }

    public DemoData {
        if (tasks.isEmpty()) throw new IllegalArgumentException("a demo needs at least one probe task");
        tasks = List.copyOf(tasks);
        runFiles = Map.copyOf(runFiles);
    }

    /** Fashion-MNIST: its training images (random horizontal flips with {@code flip}), the official test set. */
    public static DemoData fashion(FashionData data, boolean flip) {
        return new DemoData("Fashion-MNIST", (cfg, seed) -> new ImageBatches(data.train().images(), cfg.batchSize(), seed, flip),
                List.of(ProbeTasks.fashionMnist(data)), data.test(), Map.of());
    }

    /** Speech: the KTuberling/KLettres recordings (random crops) for pretraining, spoken digits of held-out voices and engines for the probe. */
    public static DemoData speech(Path dataRoot) throws IOException {
        List<float[]> clips = TrainingData.readClips(SpeechSets.pretrainClips(dataRoot));
        return new DemoData("speech (" + clips.size() + " KTuberling/KLettres recordings)",
                (cfg, seed) -> TrainingData.waves(clips, (ModalityConfig.Audio) cfg.modality(), cfg.batchSize(), seed),
                ProbeTasks.speech(dataRoot), null, Map.of());
    }

    /**
     * Text: Brown, State of the Union and Moby Dick cut into blocks of {@code cfg}'s length for
     * pretraining, sentiment with each domain held out in turn for the probe; the tokenizer goes
     * into the run folder.
     */
    public static DemoData text(Path dataRoot, Data2VecConfig cfg) throws IOException {
        ModalityConfig.Text m = (ModalityConfig.Text) cfg.modality();
        BpeTokenizer bpe = TextSets.tokenizer(dataRoot);
        List<String> docs = TextSets.pretrainCorpus(dataRoot).stream().map(Document::text).toList();
        List<int[]> blocks = TokenBlocks.of(bpe, docs, m.length());
        return new DemoData("text (" + docs.size() + " documents of Brown, State of the Union, Moby Dick)",
                (c, seed) -> TrainingData.blocks(blocks, (ModalityConfig.Text) c.modality(), c.batchSize(), seed),
                ProbeTasks.forModel(cfg, dataRoot, bpe, List.of()), null, Map.of(RunFiles.TOKENIZER, TextSets.tokenizerFile(dataRoot)));
    }
}
