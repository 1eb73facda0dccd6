package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad data met by the commands: each is a usage error (exit 2, or 1 for pretrain) whose message
 * names the file and the problem, found before any training starts, and no stack trace.
 */
class BadInputTest {
    @TempDir Path tmp;

    private static void assertClean(Captured c, Path file, String problem) {
        assertTrue(c.code() == 1 || c.code() == 2, "exit code " + c.code());
        assertTrue(c.err().contains(file.toString()), "the message names " + file + ":\n" + c.err());
        assertTrue(c.err().contains(problem), "the message says '" + problem + "':\n" + c.err());
        assertFalse(c.err().contains("\tat ") || c.err().contains("Exception"), "no stack trace:\n" + c.err());
        assertFalse(c.out().contains("step 1/"), "no training started:\n" + c.out());
    }

    private Captured demo(String modality, Path data, String run) throws Exception {
        return Captured.run(() -> new DemoCommand().run(new String[] {"--modality", modality, "--preset", modality + "-micro", "--data", data.toString(),
                "--backend", "reference", "--run", tmp.resolve(run).toString()}));
    }

    private Captured pretrain(String modality, Path data, String run) throws Exception {
        return Captured.run(() -> new PretrainCommand().run(new String[] {"--modality", modality, "--preset", "micro", "--data", data.toString(),
                "--backend", "reference", "--run", tmp.resolve(run).toString()}));
    }

    private static String[] demo(Path data, String... more) {
        String[] base = {"--data", data.toString(), "--backend", "reference", "--minutes", "0.01", "--preset", "image-micro"};
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    void aTruncatedIdxFileStopsTheDemo() throws Exception {
        Path data = tmp.resolve("data");
        DataFolders.fashion(data);
        Path images = data.resolve("fashion-mnist/train-images-idx3-ubyte.gz");
        byte[] all = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(all, all.length / 2));
        assertClean(Captured.run(() -> new DemoCommand().run(demo(data, "--run", tmp.resolve("run").toString()))), images, "truncated");
    }

    @Test
    void aNonWavClipStopsSpeechPretrainingAndTheDemo() throws Exception {
        Path data = tmp.resolve("data");
        DataFolders.speech(data);
        Path clip = data.resolve("speech/pretrain/ktuberling/en/w3.wav");
        Files.writeString(clip, "this is not audio\n");
        assertClean(demo("audio", data, "run"), clip, "not a WAV file");
        assertClean(pretrain("audio", data, "run2"), clip, "not a WAV file");
    }

    @Test
    void aClipAtTheWrongSampleRateStopsTheSpeechDemo() throws Exception {
        Path data = tmp.resolve("data");
        DataFolders.speech(data);
        Path digit = data.resolve("speech/digits/flite/awb/1_0.wav");
        Files.copy(TestData.file("espeak-two-22k.wav"), digit, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertClean(demo("audio", data, "run"), digit, "sample rate 22050 Hz; expected 16000 Hz");
    }

    @Test
    void emptyAndBinaryTextFilesStopTheTextDemo() throws Exception {
        Path data = tmp.resolve("data");
        DataFolders.text(data);
        Path doc = data.resolve("text/corpus/sotu/sotu.txt");
        Files.write(doc, new byte[0]);
        assertClean(demo("text", data, "run"), doc, "empty file");
        Files.write(doc, new byte[] {'P', 'K', 3, 4, 0, 0, 1, 2});
        assertClean(demo("text", data, "run2"), doc, "binary file");
        assertClean(pretrain("text", data, "run3"), doc, "binary file");
    }
}
