package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.TokenBlocks;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.eval.ProbeTask;
import org.d2v.eval.RawFeatures;
import org.d2v.train.RunFiles;
import org.d2v.train.TrainingData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo pipeline for speech and text (micro models, reference backend, small synthetic sets of varying lengths). */
class ModalityDemoRunTest {
    @TempDir Path tmp;

    private DemoResult run(Data2VecConfig cfg, DemoData data, Path dir) throws Exception {
        DemoRun.Options o = new DemoRun.Options(dir, cfg, List.of("reference"), 2.0, 2, 1, 10_000, 10_000, 20, 10, 1, 3);
        return new DemoRun(o, Data2VecFeatures.factory(true), new PrintStream(new ByteArrayOutputStream(), true)).run(data);
    }

    @Test
    void speechDemoProbesHeldOutClipsAgainstLogSpectra() throws Exception {
        Data2VecConfig cfg = Presets.audioMicro();
        Random r = new Random(2);
        List<float[]> clips = new ArrayList<>();
        for (int i = 0; i < 12; i++) clips.add(SyntheticSets.tone(150 + 50 * i, 4000 + r.nextInt(3000), r));
        ProbeTask task = new ProbeTask("tones", SyntheticSets.tones(30, 1500, 1), SyntheticSets.tones(16, 1500, 2), RawFeatures.logSpectrum(64, 3),
                Double.NaN, 0);
        DemoData data = new DemoData("tones", (c, seed) -> TrainingData.waves(clips, (ModalityConfig.Audio) c.modality(), c.batchSize(), seed),
                List.of(task), null, Map.of());
        Path dir = tmp.resolve("audio");
        DemoResult res = run(cfg, data, dir);
        DemoResult.TaskResult t = res.first();
        assertEquals("log-spectrum 256-d", t.raw().what());
        assertTrue(t.raw().testAccuracy() > 0.9, "log-spectra tell 220 Hz from 880 Hz: " + t.raw().testAccuracy());
        assertEquals(t.raw().testAccuracy(), t.floor(), 0, "no published floor: the raw probe is the floor");
        assertEquals(30, t.pretrained().trainSize());
        assertEquals(16, t.randomInit().testSize());
        String md = Files.readString(dir.resolve(Report.MARKDOWN));
        assertTrue(md.contains("## tones"), md);
        assertTrue(md.contains("| log-spectrum 256-d | "), md);
        assertTrue(res.figures().isEmpty(), "no image figures for speech");
        assertFalse(Files.exists(dir.resolve(MaskFigure.FILE)));
        assertTrue(Files.exists(dir.resolve("loss.png")));
    }

    @Test
    void textDemoSavesItsTokenizerAndProbesEachTaskAgainstBagOfWords() throws Exception {
        Data2VecConfig cfg = Presets.textMicro();
        BpeTokenizer bpe = SyntheticSets.tokenizer();
        Path tokenizer = tmp.resolve("bpe.txt");
        bpe.save(tokenizer);
        int[] y = new int[300];
        List<int[]> blocks = TokenBlocks.of(bpe, SyntheticSets.sentences(300, 7, y), 32);
        List<ProbeTask> tasks = List.of(
                new ProbeTask("reviews a", SyntheticSets.texts(40, 1, bpe, 32), SyntheticSets.texts(20, 2, bpe, 32), RawFeatures.bagOfWords(), Double.NaN, 0),
                new ProbeTask("reviews b", SyntheticSets.texts(30, 3, bpe, 32), SyntheticSets.texts(20, 4, bpe, 32), RawFeatures.bagOfWords(), Double.NaN, 0));
        DemoData data = new DemoData("sentences", (c, seed) -> TrainingData.blocks(blocks, (ModalityConfig.Text) c.modality(), c.batchSize(), seed),
                tasks, null, Map.of(RunFiles.TOKENIZER, tokenizer));
        Path dir = tmp.resolve("text");
        DemoResult res = run(cfg, data, dir);
        assertEquals(2, res.tasks().size());
        assertEquals("reviews b", res.tasks().get(1).task());
        assertEquals(30, res.tasks().get(1).pretrained().trainSize());
        for (DemoResult.TaskResult t : res.tasks()) {
            assertEquals("bag of words", t.raw().what());
            assertTrue(t.raw().testAccuracy() > 0.9, "one polar word per sentence: bag of words finds it, " + t.raw().testAccuracy());
        }
        assertEquals(Files.readString(tokenizer), Files.readString(dir.resolve(RunFiles.TOKENIZER)), "the tokenizer is saved with the model");
        String json = Files.readString(dir.resolve(Report.JSON));
        assertTrue(json.contains("\"task\": \"reviews a\"") && json.contains("\"task\": \"reviews b\""), json);
        String md = Files.readString(dir.resolve(Report.MARKDOWN));
        assertTrue(md.contains("## Diagnostics") && md.contains("| step | block | var over positions"), "diagnostics in the report: " + md);
        List<String> csv = Files.readAllLines(dir.resolve(org.d2v.diagnostics.DiagnosticsLog.CSV));
        assertEquals(1 + 1 + 1, csv.size(), "a header, step 0 and the one probe point: " + csv);
        assertTrue(Files.exists(dir.resolve(org.d2v.diagnostics.DiagnosticsLog.CHART)) && Files.exists(dir.resolve(org.d2v.diagnostics.DiagnosticsLog.RANKS)));
    }
}
