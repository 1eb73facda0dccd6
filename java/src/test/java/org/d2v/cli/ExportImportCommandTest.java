package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.d2v.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** d2v export and d2v import through the command line, and pretrain --init, on a micro image run. */
class ExportImportCommandTest {
    @TempDir Path tmp;

    @Test
    void helpExplainsEveryOption() throws Exception {
        HelpText.explainsEveryOption(new ExportCommand(), "--run", "--checkpoint", "--format", "--out");
        HelpText.explainsEveryOption(new ImportCommand(), "--weights", "--modality", "--preset", "--run", "--seed");
    }

    @Test
    void exportedEncoderComesBackThroughImportAndInit() throws Exception {
        Path run = tmp.resolve("run"), file = tmp.resolve("enc.safetensors"), imported = tmp.resolve("imported");
        Captured pre = Captured.run(() -> new PretrainCommand().run("--modality", "image", "--preset", "micro", "--backend", "reference",
                "--steps", "1", "--run", run.toString(), "--progress-seconds", "100"));
        assertEquals(0, pre.code(), pre.err());
        Captured exp = Captured.run(() -> new ExportCommand().run("--run", run.toString(), "--format=fairseq", "--out", file.toString()));
        assertEquals(0, exp.code(), exp.err());
        assertTrue(exp.out().contains("fairseq names"), exp.out());

        Captured imp = Captured.run(() -> new ImportCommand().run("--weights", file.toString(), "--modality", "image", "--preset", "micro",
                "--run", imported.toString()));
        assertEquals(0, imp.code(), imp.err());
        Map<String, double[]> trained = Checkpoint.load(Checkpoint.latest(run)).readAll();
        Map<String, double[]> back = Checkpoint.load(Checkpoint.latest(imported)).readAll();
        assertEquals(imported.resolve("checkpoint-0"), Checkpoint.latest(imported));
        int compared = 0;
        for (String name : trained.keySet()) {
            if (!name.startsWith("student.") || name.startsWith("student.decoder.")) continue;
            assertArrayEquals(trained.get(name), back.get(name), 0.0, name);
            assertArrayEquals(trained.get(name), back.get("teacher." + name.substring(8)) == null ? trained.get(name)
                    : back.get("teacher." + name.substring(8)), 0.0, "teacher " + name);
            compared++;
        }
        assertTrue(compared > 40, compared + " tensors compared");

        // The imported run trains on (resume from step 0), and a new run can start from the file.
        Captured resumed = Captured.run(() -> new PretrainCommand().run("--resume", imported.toString(), "--steps", "1",
                "--backend", "reference", "--progress-seconds", "100"));
        assertEquals(0, resumed.code(), resumed.err());
        Captured init = Captured.run(() -> new PretrainCommand().run("--modality", "image", "--preset", "micro", "--backend", "reference",
                "--steps", "1", "--run", tmp.resolve("init").toString(), "--init", file.toString(), "--progress-seconds", "100"));
        assertEquals(0, init.code(), init.err());
        assertTrue(init.out().contains("encoder initialised from " + file), init.out());

        // Bad input: the wrong modality, a file that is not safetensors, a used folder.
        Captured wrong = Captured.run(() -> new ImportCommand().run("--weights", file.toString(), "--modality", "text", "--preset", "micro",
                "--run", tmp.resolve("t").toString()));
        assertEquals(2, wrong.code());
        assertEquals("d2v import: " + file + ": holds a image encoder, the model is text\n", wrong.err());
        Path junk = tmp.resolve("junk.safetensors");
        Files.writeString(junk, "not a tensor file");
        Captured bad = Captured.run(() -> new ImportCommand().run("--weights", junk.toString(), "--modality", "image", "--preset", "micro",
                "--run", tmp.resolve("j").toString()));
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("d2v import: " + junk + ": bad header"), bad.err());
        assertEquals(2, new ImportCommand().run("--weights", file.toString(), "--modality", "image", "--preset", "micro", "--run", imported.toString()));
        assertEquals(2, new ExportCommand().run("--run", run.toString(), "--format", "onnx"));
    }
}
