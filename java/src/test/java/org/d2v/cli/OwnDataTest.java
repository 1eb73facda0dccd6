package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.d2v.data.TestData;
import org.d2v.data.text.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new user's own data through the command line: pretrain a few steps (micro models, reference
 * backend), resume, probe and fine-tune on folders of images, WAV files (and a fairseq manifest)
 * and text files, made in the test.
 */
class OwnDataTest {
    /** Exit code of bad input found before training (Cli.USAGE); a file that breaks a step mid-run exits 1. */
    private static final int BAD_INPUT = 2;

    @TempDir Path tmp;

    static Captured pretrain(String modality, Path data, Path run, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("--modality", modality, "--preset", "micro", "--data", data.toString(), "--backend", "reference",
                "--run", run.toString(), "--progress-seconds", "100"));
        a.addAll(List.of(more));
        if (!a.contains("--steps")) a.addAll(List.of("--steps", "2"));
        return Captured.run(() -> new PretrainCommand().run(a.toArray(new String[0])));
    }

    static Captured probe(Path run, Path data, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("--run", run.toString(), "--data", data.toString(), "--backend", "reference"));
        a.addAll(List.of(more));
        return Captured.run(() -> new ProbeCommand().run(a.toArray(new String[0])));
    }

    private static List<String> losses(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).toList();
    }

    @Test
    void imageFolderOfMixedFilesPretrainsResumesExactlyAndIsProbedAndFineTuned() throws Exception {
        Path images = UserData.images(tmp.resolve("photos"), 12);
        Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
        Captured a = pretrain("image", images, straight, "--steps", "4", "--checkpoint-every", "2");
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("24 image files of " + images) && a.out().contains("28x28x1"), a.out());
        assertTrue(a.out().contains("data: ") && a.out().contains("waiting for batches"), a.out());
        // The same run stopped after its checkpoint at step 2 (checkpoint-4 and its metrics never written).
        assertEquals(0, pretrain("image", images, resumed, "--steps", "4", "--checkpoint-every", "2").code());
        org.d2v.data.TestFiles.deleteTree(resumed.resolve("checkpoint-4"));
        Files.writeString(resumed.resolve("latest"), "checkpoint-2\n");
        Captured r = Captured.run(() -> new PretrainCommand().run(new String[] {"--resume", resumed.toString(), "--progress-seconds", "100"}));
        assertEquals(0, r.code(), r.err());
        assertEquals(losses(straight), losses(resumed), "decoding, crops and flips replay exactly after a resume");

        Captured p = probe(straight, images, "--random-init");
        assertEquals(0, p.code(), p.err());
        // 12 per class, every 5th held out: 10 train + 2 test per class.
        assertTrue(p.out().contains("your data " + images + ", every 5th example of each class held out (20 images 28x28x1 / 4 images 28x28x1)"), p.out());
        assertTrue(p.out().contains("raw pixels") && p.out().contains("random init"), p.out());
        Path test = UserData.images(tmp.resolve("more-photos"), 3);
        Captured pt = probe(straight, images, "--test-data", test.toString());
        assertEquals(0, pt.code(), pt.err());
        assertTrue(pt.out().contains("(24 images 28x28x1 / 6 images 28x28x1)"), pt.out());
        Captured ft = Captured.run(() -> new FinetuneCommand().run(new String[] {"--run", straight.toString(), "--data", images.toString(),
                "--backend", "reference", "--epochs", "1", "--batch", "4"}));
        assertEquals(0, ft.code(), ft.err());
        assertTrue(ft.out().contains("epoch 1/1"), ft.out());
    }

    @Test
    void wavFolderAndManifestOfMixedLengthsPretrainAndAreProbed() throws Exception {
        Path clips = tmp.resolve("clips");
        List<String> lines = UserData.audio(clips, 10);
        Path tsv = UserData.manifest(clips, lines, tmp.resolve("train.tsv"));
        long shorter = lines.stream().filter(l -> Integer.parseInt(l.split("\t")[1]) < 2000).count();
        assertTrue(shorter > 0 && lines.stream().anyMatch(l -> Integer.parseInt(l.split("\t")[1]) > 4000), "the fixture has clips to skip and to crop");
        for (Path data : new Path[] {tsv, clips}) {
            Path run = tmp.resolve("run-" + data.getFileName());
            Captured c = pretrain("audio", data, run, "--steps", "3");
            assertEquals(0, c.code(), c.err());
            assertTrue(c.out().contains((20 - shorter) + " of 20 ") && c.out().contains(shorter + " shorter skipped"), c.out());
        }
        Captured p = probe(tmp.resolve("run-clips"), clips);
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("(16 training clips / 4 test clips)") && p.out().contains("log-spectrum"), p.out());
    }

    @Test
    void textFolderPretrainsWithATrainedOrAGpt2TokenizerAndIsProbed() throws Exception {
        Path corpus = UserData.corpus(tmp.resolve("corpus"), 6), labeled = UserData.labeledText(tmp.resolve("reviews"), 10);
        Path run = tmp.resolve("run");
        Captured c = pretrain("text", corpus, run);
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("6 .txt documents") && c.out().contains("d2v byte-level BPE"), c.out());
        assertTrue(Files.isRegularFile(run.resolve(Tokenizers.D2V_FILE)), "the BPE trained on the corpus is kept with the run");
        Captured p = probe(run, labeled);
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("(16 training texts / 4 test texts)") && p.out().contains("bag of words"), p.out());

        Path tsv = tmp.resolve("reviews.tsv");
        List<String> rows = new ArrayList<>();
        java.util.Random r = new java.util.Random(8);
        for (int i = 0; i < 20; i++) rows.add((i % 2 == 0 ? "pos" : "neg") + "\t" + UserData.sentence(r, i % 2 == 0));
        Files.write(tsv, rows);
        Captured pt = probe(run, tsv);
        assertEquals(0, pt.code(), pt.err());
        assertTrue(pt.out().contains("(16 training texts / 4 test texts)"), pt.out());

        Path gpt2 = tmp.resolve("run-gpt2"), lines = tmp.resolve("docs.txt");
        Files.writeString(lines, String.join("\n", Files.readString(corpus.resolve("a/doc0.txt")).split("\n\n")));
        Captured g = pretrain("text", lines, gpt2, "--tokenizer", TestData.file("gpt2-bpe/vocab.json").getParent().toString());
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().contains("documents, one per line of docs.txt") && g.out().contains("GPT-2 byte-level BPE"), g.out());
        assertTrue(Files.isRegularFile(gpt2.resolve(Tokenizers.GPT2_DIR).resolve("dict.txt")), "vocab, merges and dict.txt are kept with the run");
        assertEquals(0, probe(gpt2, labeled).code());
    }

    // ---- bad input: exit code and a message naming the file, no stack trace ----------------------------

    private static void assertNamed(Captured c, int code, Path file, String problem) {
        assertEquals(code, c.code(), c.err());
        assertTrue(c.err().contains(file.toString()), "the message names " + file + ":\n" + c.err());
        assertTrue(c.err().contains(problem), "the message says '" + problem + "':\n" + c.err());
        assertFalse(c.err().contains("\tat "), "no stack trace:\n" + c.err());
    }

    @Test
    void corruptImageAndEmptyFolderAreNamed() throws Exception {
        Path images = UserData.images(tmp.resolve("photos"), 3);
        Path bad = images.resolve("rings/zz-broken.jpg");
        Files.write(bad, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0});
        // Every image is visited within the first epoch (7 images, batch 2: 3 batches), so 4 steps meet it.
        assertNamed(pretrain("image", images, tmp.resolve("r1"), "--steps", "4"), 1, bad, "corrupt or unsupported image");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Captured e = pretrain("image", empty, tmp.resolve("r2"));
        assertNamed(e, BAD_INPUT, empty, "no image files");
        assertTrue(e.err().contains("a folder of PNG/JPEG/BMP/GIF images") && e.err().contains("an IDX images file") && e.err().contains("'generated'"), e.err());
        assertNamed(pretrain("audio", empty, tmp.resolve("r3")), BAD_INPUT, empty, "no .wav files");
        assertNamed(pretrain("text", empty, tmp.resolve("r4")), BAD_INPUT, empty, "no .txt files");
    }

    @Test
    void unsupportedWavsAreNamed() throws Exception {
        float[] tone = UserData.tone(440, 3000, new java.util.Random(1));
        String[][] cases = {{"8bit.wav", "8-bit PCM"}, {"cd.wav", "sample rate 44100 Hz"}, {"stereo.wav", "2 channels"}};
        for (String[] c : cases) {
            Path dir = Files.createDirectories(tmp.resolve("w-" + c[0]));
            org.d2v.data.audio.Wav.write(dir.resolve("fine.wav"), tone, 16_000);
            Path f = dir.resolve(c[0]);
            switch (c[0]) {
                case "8bit.wav" -> org.d2v.data.audio.Wav.writeRaw(f, tone, 16_000, 1, 8, 1);
                case "cd.wav" -> org.d2v.data.audio.Wav.writeRaw(f, tone, 44_100, 1, 16, 1);
                default -> org.d2v.data.audio.Wav.writeRaw(f, tone, 16_000, 1, 16, 2);
            }
            assertNamed(pretrain("audio", dir, tmp.resolve("run-" + c[0])), BAD_INPUT, f, c[1]);
        }
    }

    @Test
    void manifestsThatDisagreeWithTheFilesAreNamed() throws Exception {
        Path clips = tmp.resolve("clips");
        List<String> lines = new ArrayList<>(UserData.audio(clips, 3));
        String[] first = lines.get(0).split("\t");
        lines.set(0, first[0] + "\t" + (Integer.parseInt(first[1]) + 7));
        Path tsv = UserData.manifest(clips, lines, tmp.resolve("bad-count.tsv"));
        assertNamed(pretrain("audio", tsv, tmp.resolve("r1")), BAD_INPUT, clips.resolve(first[0]), "line 2 of " + tsv);
        lines.set(0, "high/not-there.wav\t1234");
        Path missing = UserData.manifest(clips, lines, tmp.resolve("missing.tsv"));
        assertNamed(pretrain("audio", missing, tmp.resolve("r2")), BAD_INPUT, clips.resolve("high/not-there.wav"), "no such file");
    }

    @Test
    void nonUtf8TextIsNamedWithItsByteOffset() throws Exception {
        Path corpus = UserData.corpus(tmp.resolve("corpus"), 3);
        Path bad = corpus.resolve("b/latin1.txt");
        Files.createDirectories(bad.getParent());
        Files.write(bad, "caf\u00e9 au lait".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertNamed(pretrain("text", corpus, tmp.resolve("r1")), BAD_INPUT, bad, "invalid byte 0xE9 at byte offset 3");
        Path lines = tmp.resolve("lines.txt");
        Files.write(lines, ("good line\nsecond caf" + "\u00e9").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertNamed(pretrain("text", lines, tmp.resolve("r2")), BAD_INPUT, lines, "at byte offset 20");
    }
}
