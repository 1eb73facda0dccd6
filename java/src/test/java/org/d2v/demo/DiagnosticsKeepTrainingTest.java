package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.LabeledImages;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.TokenBlocks;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.eval.ProbeTask;
import org.d2v.eval.RawFeatures;
import org.d2v.train.RunFiles;
import org.d2v.train.TrainingData;
import java.util.Map;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.optim.CosineSchedule;
import org.d2v.tensor.DType;
import org.d2v.train.BatchSource;
import org.d2v.train.Pretrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A demo run with its diagnostics at every probe point trains exactly what the same steps train
 * without any evaluation in between: the diagnostics pass and its fixed pretraining batch leave the
 * model, the random stream and the data order alone (so demo results at a step count do not move).
 */
class DiagnosticsKeepTrainingTest {
    @TempDir Path tmp;

    @Test
    void imagesTheLossOfEveryStepIsTheLossOfAnUninterruptedRun() throws Exception {
        LabeledImages all = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        FashionData data = FashionData.of(all.head(120), all.head(40));
        assertSameTraining(Presets.imageMicro(), DemoData.fashion(data, true), tmp.resolve("image"));
    }

    @Test
    void textWithItsFixedPositionBatchTrainsTheSameToo() throws Exception {
        BpeTokenizer bpe = SyntheticSets.tokenizer();
        Path tokenizer = tmp.resolve("bpe.txt");
        bpe.save(tokenizer);
        int[] y = new int[200];
        List<int[]> blocks = TokenBlocks.of(bpe, SyntheticSets.sentences(200, 7, y), 32);
        ProbeTask task = new ProbeTask("reviews", SyntheticSets.texts(20, 1, bpe, 32), SyntheticSets.texts(10, 2, bpe, 32), RawFeatures.bagOfWords(), Double.NaN, 0);
        DemoData demo = new DemoData("sentences", (c, seed) -> TrainingData.blocks(blocks, (ModalityConfig.Text) c.modality(), c.batchSize(), seed),
                List.of(task), null, Map.of(RunFiles.TOKENIZER, tokenizer));
        String log = assertSameTraining(Presets.textMicro(), demo, tmp.resolve("text"));
        assertTrue(log.contains("position share 0.") || log.contains("position share 1."), log);
    }

    private static String assertSameTraining(Data2VecConfig base, DemoData demo, Path dir) throws Exception {
        long steps = 6, seed = 1;
        Path run = dir.resolve("demo");
        DemoRun.Options o = new DemoRun.Options(run, base, List.of("reference"), 1.0, 2, 3, 20, 10, 20, 10, seed, 2).withSteps(steps);
        String log = runQuietly(o, demo);
        assertTrue(log.contains("diagnostics, step 6"), log);

        Data2VecConfig cfg = DemoPresets.annealOver(base, steps);
        Path plain = dir.resolve("plain");
        try (Data2Vec model = new Data2Vec(new ReferenceDevice(DType.F32), cfg); BatchSource source = demo.pretraining().open(cfg, seed)) {
            Pretrainer.builder().model(new Data2VecFeatures(model)).source(source).runDir(plain).steps(steps)
                    .schedule(new CosineSchedule(cfg.optim().lr(), Math.min(cfg.optim().warmup(), steps / 10), steps, 0)).seed(seed)
                    .checkpointEvery(0).plot(false).progress(new PrintStream(new ByteArrayOutputStream())).build().run();
        }
        List<String> a = lossColumn(run.resolve("metrics.csv")), b = lossColumn(plain.resolve("metrics.csv"));
        assertEquals(steps, a.size());
        assertEquals(b, a, "per-step losses with and without the diagnostics");
        return log;
    }

    private static String runQuietly(DemoRun.Options o, DemoData demo) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new DemoRun(o, Data2VecFeatures::create, new PrintStream(out, true)).run(demo);
        return out.toString();
    }

    private static List<String> lossColumn(Path csv) throws Exception {
        List<String> lines = Files.readAllLines(csv);
        int col = List.of(lines.get(0).split(",")).indexOf("loss");
        return lines.subList(1, lines.size()).stream().map(l -> l.split(",")[col]).toList();
    }
}
