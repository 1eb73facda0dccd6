package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.d2v.backend.Device;
import org.d2v.data.TestFiles;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.train.Checkpoint;
import org.d2v.train.FolderHash;
import org.d2v.train.HostileCheckpoints;
import org.d2v.train.ToyModel;
import org.d2v.train.TrainableModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 1 (data loss on resume): a resume validates everything it will read before the
 * run folder changes, the run's own tokenizer and options are the source of truth, a folder without
 * 'latest' resumes from its newest complete checkpoint, and a new run never reuses a folder that
 * holds a run. Every refusal is checked for its exit code, for naming the file or option and the
 * problem, and for leaving the run folder byte-identical (every file hashed before and after).
 */
class ResumeSafetyTest {
    @TempDir Path tmp;

    private static final String[] TOY = {"--modality", "image", "--backend", "reference", "--steps", "6", "--checkpoint-every", "2",
            "--batch", "3", "--seed", "5", "--progress-seconds", "100"};

    private static BiFunction<Data2VecConfig, Device, TrainableModel> toy() {
        return (config, device) -> new ToyModel(device, config.seed());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Captured pretrain(String... args) throws Exception {
        return Captured.run(() -> new PretrainCommand(toy()).run(args));
    }

    /** A toy run stopped after its checkpoint at step 4 (checkpoint-6 and the later rows removed). */
    private Path stoppedRun(String name) throws Exception {
        Path run = tmp.resolve(name);
        assertEquals(0, pretrain(concat(TOY, "--run", run.toString())).code());
        TestFiles.deleteTree(run.resolve("checkpoint-6"));
        Files.writeString(run.resolve("latest"), "checkpoint-4\n");
        return run;
    }

    /** A refusal: the exit code, the message naming {@code names} (all of them), no stack trace, and the folder unchanged. */
    private static void assertRefused(Captured c, int code, Map<String, String> before, Path run, String... names) throws Exception {
        assertEquals(code, c.code(), c.err());
        assertTrue(c.err().startsWith("d2v pretrain: "), c.err());
        for (String n : names) assertTrue(c.err().contains(n), "the message names '" + n + "':\n" + c.err());
        assertFalse(c.err().contains("\tat ") || c.err().contains("Exception"), "no stack trace:\n" + c.err());
        assertEquals(before, FolderHash.of(run), "the run folder is byte-identical afterwards");
    }

    @Test
    void aResumeRefusesEveryDamagedFileItWouldReadAndChangesNothing() throws Exception {
        Path run = stoppedRun("run");
        Path manifest = run.resolve("checkpoint-4/manifest.json"), metrics = run.resolve("metrics.jsonl");
        String goodManifest = Files.readString(manifest), goodMetrics = Files.readString(metrics);
        record Damage(String what, Runnable apply, Path file, String problem) {}
        List<Damage> damages = new ArrayList<>();
        damages.add(new Damage("a negative data position", () -> edit(manifest, goodManifest.replaceAll("\"data_position\":\\d+", "\"data_position\":-5")),
                manifest, "'data_position' is -5"));
        damages.add(new Damage("a negative stream position", () -> edit(manifest, goodManifest.replaceAll("\"rng_position\":\\d+", "\"rng_position\":-1")),
                manifest, "'rng_position' is -1"));
        damages.add(new Damage("a step that is not the folder's", () -> edit(manifest, goodManifest.replaceAll("\"step\":4", "\"step\":2")),
                manifest, "says step 2, but its folder is checkpoint-4"));
        damages.add(new Damage("a row missing from the history", () -> edit(metrics, dropLine(goodMetrics, 1)), metrics,
                "row 2 is for step 3, expected step 2"));
        damages.add(new Damage("a history that stops early", () -> edit(metrics, String.join("\n", List.of(goodMetrics.split("\n")).subList(0, 3)) + "\n"), metrics,
                "holds steps 1..3, the checkpoint is at step 4"));
        for (Damage d : damages) {
            edit(manifest, goodManifest);
            edit(metrics, goodMetrics);
            d.apply().run();
            Map<String, String> before = FolderHash.of(run);
            Captured c = pretrain("--resume", run.toString());
            assertRefused(c, 2, before, run, d.file().toString(), d.problem());
        }
    }

    @Test
    void aResumeWhoseDataIsGoneOrDamagedChangesNothing() throws Exception {
        Path images = UserData.images(tmp.resolve("photos"), 6);
        Path run = tmp.resolve("run");
        assertEquals(0, pretrain(concat(TOY, "--run", run.toString(), "--data", images.toString())).code());
        TestFiles.deleteTree(images);
        Map<String, String> before = FolderHash.of(run);
        assertRefused(pretrain("--resume", run.toString(), "--steps", "8"), 2, before, run, images.toString());
        // Still there, but now fewer images than one batch.
        UserData.images(images, 1);
        assertRefused(pretrain("--resume", run.toString(), "--steps", "8"), 2, before, run, images.toString(), "fewer than one batch of 3");
    }

    @Test
    void aCheckpointHoldingANonFiniteWeightIsRefusedNamingTheTensor() throws Exception {
        Path run = stoppedRun("run");
        HostileCheckpoints.poison(run.resolve("checkpoint-4"), "student.w", 3, Float.POSITIVE_INFINITY); // size and sha256 kept consistent
        Map<String, String> before = FolderHash.of(run);
        assertRefused(pretrain("--resume", run.toString()), 2, before, run, run.resolve("checkpoint-4/tensors.safetensors").toString(),
                "tensor 'student.w' holds Infinity at element 3");
    }

    @Test
    void optionsThatDefineTheRunCannotChangeOnResume() throws Exception {
        Path run = stoppedRun("run");
        Path manifest = run.resolve("checkpoint-4/manifest.json");
        Map<String, String> before = FolderHash.of(run);
        Map<String, String[]> changes = new LinkedHashMap<>();
        changes.put("--seed", new String[] {"7", "'7' is not the run's '5'"});
        changes.put("--batch", new String[] {"4", "'4' is not the run's '3'"});
        changes.put("--preset", new String[] {"micro", "'micro' is not the run's 'tiny'"});
        changes.put("--data", new String[] {tmp.toString(), "is not the run's 'generated'"});
        for (Map.Entry<String, String[]> e : changes.entrySet()) {
            Captured c = pretrain("--resume", run.toString(), e.getKey(), e.getValue()[0]);
            assertRefused(c, 2, before, run, e.getKey() + ": ", e.getValue()[1], manifest.toString());
        }
        // The same values given again are no change; the schedule may change, with a note.
        Captured same = pretrain("--resume", run.toString(), "--seed", "5", "--batch", "3", "--steps", "6", "--lr", "0.0005");
        assertEquals(0, same.code(), same.err());
        assertTrue(same.out().contains("note: continuing with --lr 0.0005 (the run was trained with 0.001)"), same.out());
    }

    @Test
    void withoutLatestAResumeTakesTheNewestCompleteCheckpointAndSaysSo() throws Exception {
        Path straight = tmp.resolve("straight");
        assertEquals(0, pretrain(concat(TOY, "--run", straight.toString())).code());
        Path run = stoppedRun("run");
        // A kill between renaming checkpoint-4 into place and writing 'latest' (run's first save here), plus a partial later save.
        Files.delete(run.resolve("latest"));
        Files.createDirectories(run.resolve(".tmp-checkpoint-6-123"));
        Captured c = pretrain("--resume", run.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("note: " + run + " has no 'latest' pointer") && c.out().contains("using checkpoint-4"), c.out());
        assertEquals(run.resolve("checkpoint-6"), Checkpoint.latest(run));
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")).stream().map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).toList(),
                Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).toList(),
                "the resumed run equals the straight one");
        assertFalse(Files.exists(run.resolve(".tmp-checkpoint-6-123")), "the next save removed the stale temporary");
    }

    @Test
    void aNewRunRefusesAnyFolderThatHoldsARun() throws Exception {
        Path complete = stoppedRun("complete");
        Files.delete(complete.resolve("latest")); // complete checkpoints, no pointer: what a kill during the first save leaves
        Path partial = Files.createDirectories(tmp.resolve("partial/.tmp-checkpoint-2-99"));
        Path metricsOnly = tmp.resolve("metrics-only");
        Files.createDirectories(metricsOnly);
        Files.writeString(metricsOnly.resolve("metrics.jsonl"), "{\"step\":1}\n");
        Path file = Files.writeString(tmp.resolve("a-file"), "not a folder");
        Map<Path, String> expected = Map.of(complete, "already holds a run (checkpoint-2, checkpoint-4)", partial.getParent(),
                "holds a partial checkpoint (.tmp-checkpoint-2-99", metricsOnly, "holds the metrics of an earlier run", file, "is a file, not a folder");
        for (Map.Entry<Path, String> e : expected.entrySet()) {
            Map<String, String> before = FolderHash.of(e.getKey());
            Captured c = pretrain(concat(TOY, "--run", e.getKey().toString()));
            assertRefused(c, 2, before, e.getKey(), "--run: " + e.getKey(), e.getValue());
        }
        // Import refuses them too.
        Map<String, String> before = FolderHash.of(complete);
        Captured imp = Captured.run(() -> new ImportCommand().run("--weights", file.toString(), "--modality", "image", "--run", complete.toString()));
        assertEquals(2, imp.code(), imp.err());
        assertTrue(imp.err().contains("--run: " + complete + " already holds a run"), imp.err());
        assertEquals(before, FolderHash.of(complete));
    }

    @Test
    void aTextRunKeepsItsOwnTokenizerAndRefusesAnotherNamingBoth() throws Exception {
        Path corpus = UserData.corpus(tmp.resolve("corpus"), 6);
        Path run = tmp.resolve("text-run");
        Captured first = OwnDataTest.pretrain("text", corpus, run, "--steps", "2", "--checkpoint-every", "1");
        assertEquals(0, first.code(), first.err());
        Path own = run.resolve("tokenizer-bpe.txt");
        assertTrue(Files.isRegularFile(own));
        // Another valid tokenizer, of the same vocabulary size but trained on other text.
        Path other = tmp.resolve("other-bpe.txt");
        BpeTokenizer.train(List.of("zebra quartz jukebox vexing fjords", "the five boxing wizards jump quickly"), 300).save(other);
        Map<String, String> before = FolderHash.of(run);
        Captured c = Captured.run(() -> new PretrainCommand().run("--resume", run.toString(), "--steps", "3", "--tokenizer", other.toString()));
        assertRefused(c, 2, before, run, "--tokenizer: " + other, "is not the tokenizer this run was trained with (" + own + ")");

        // A damaged own tokenizer is found before anything changes (the data folder's or the command line's never replaces it).
        Path copy = Files.copy(own, tmp.resolve("own-copy.txt"));
        Files.writeString(own, "garbage\n");
        Map<String, String> damaged = FolderHash.of(run);
        Captured bad = Captured.run(() -> new PretrainCommand().run("--resume", run.toString(), "--steps", "3"));
        assertRefused(bad, 2, damaged, run, own.toString());

        // The run's own tokenizer given again is no change: the resume goes on, and leaves the run's copy as it was.
        Files.copy(copy, own, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String ownBytes = Files.readString(own);
        Captured ok = Captured.run(() -> new PretrainCommand().run("--resume", run.toString(), "--steps", "3", "--tokenizer", copy.toString(),
                "--progress-seconds", "100"));
        assertEquals(0, ok.code(), ok.err());
        assertEquals(run.resolve("checkpoint-3"), Checkpoint.latest(run));
        assertEquals(ownBytes, Files.readString(own), "a resume never rewrites the run's tokenizer");
    }

    private static void edit(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String dropLine(String text, int index) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        lines.remove(index);
        return String.join("\n", lines);
    }
}
