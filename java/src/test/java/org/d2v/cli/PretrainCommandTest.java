package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiFunction;
import org.d2v.backend.Device;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.train.Checkpoint;
import org.d2v.train.ToyModel;
import org.d2v.train.TrainableModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainCommandTest {
    @TempDir Path tmp;

    @Test
    void helpExplainsEveryOption() throws Exception {
        HelpText.explainsEveryOption(new PretrainCommand(), "--modality", "--preset", "--data", "--backend", "--steps", "--batch", "--run",
                "--resume", "--init", "--seed", "--checkpoint-every", "--keep-last", "--lr", "--warmup", "--progress-seconds", "--tokenizer",
                "--update-freq", "--stop-at", "--check-replicas", "--precision");
    }

    @Test
    void theGlobalBatchIsCutIntoRanksAndMicroBatches() throws Exception {
        // The base presets hold fairseq's global batch; one device reaches it by accumulating its per-device batches.
        assertEquals(16, PretrainCommand.split(Presets.imageBase(), 0, 1, null).updateFreq(), "256 = 1 x 16 x 16");
        assertEquals(2, PretrainCommand.split(Presets.imageBase(), 5, 8, null).updateFreq(), "256 = 8 x 2 x 16");
        assertEquals(1, PretrainCommand.split(Presets.imageBase(), 15, 16, null).updateFreq(), "fairseq's 16 GPUs x 16");
        assertEquals(16, PretrainCommand.split(Presets.textBase(), 0, 1, null).updateFreq(), "64 = 16 x 4");
        assertEquals(8, PretrainCommand.split(Presets.audioBase(), 0, 1, null).updateFreq(), "24 clips of 20 s = 8 x 3");
        assertEquals(1, PretrainCommand.split(Presets.imageTiny(), 0, 2, null).updateFreq(), "tiny: one device batch, cut over the ranks");
        assertEquals(3, PretrainCommand.split(Presets.imageBase().withBatchSize(96), 0, 2, null).updateFreq(), "96 = 2 x 3 x 16");
        assertEquals(4, PretrainCommand.split(Presets.imageBase().withBatchSize(80), 0, 2, null).updateFreq(), "80 = 2 x 4 x 10, not 2 x 3 x 13.3");
        assertEquals("global batch 256 = 8 ranks x 2 micro-batches x 16 per device (preset's per-device batch 16)",
                PretrainCommand.describe(Presets.imageBase(), PretrainCommand.split(Presets.imageBase(), 0, 8, null)));
        assertEquals(4, PretrainCommand.split(Presets.imageTiny().withBatchSize(8), 0, 1, 4).updateFreq());
        var uneven = assertThrows(IllegalArgumentException.class, () -> PretrainCommand.split(Presets.imageTiny(), 0, 3, null));
        assertEquals("--batch: the global batch of 4 does not split evenly over 3 ranks", uneven.getMessage());
        var freq = assertThrows(IllegalArgumentException.class, () -> PretrainCommand.split(Presets.imageTiny(), 0, 1, 3));
        assertEquals("--update-freq: the global batch of 4 (--batch) does not split into 1 rank(s) x 3 micro-batches of equal size", freq.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PretrainCommand.split(Presets.imageTiny(), 0, 8, null), "fewer samples than ranks");
        assertEquals(3, PretrainCommand.split(Presets.audioTiny().withBatchSize(5), 0, 1, 3).updateFreq(), "audio batches by length are cut unevenly");

        Captured bad = Captured.run(() -> new PretrainCommand().run("--modality", "image", "--backend", "reference", "--batch", "4",
                "--update-freq", "3", "--run", tmp.resolve("bad").toString()));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--update-freq: the global batch of 4"), bad.err());
    }

    @Test
    void aBf16RunStartsWithItsMemoryEstimate() throws Exception {
        // The estimate's dry run cannot store bf16: it counts in the masters' precision (an upper bound) instead of failing.
        Captured r = Captured.run(() -> new PretrainCommand().run("--modality", "image", "--preset", "micro", "--backend", "reference",
                "--precision", "bf16", "--steps", "1", "--run", tmp.resolve("bf16").toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(" in bf16: 1 steps"), r.out());
        assertTrue(r.out().contains("memory estimate: "), r.out());
    }

    @Test
    void badCommandLinesAreUsageErrors() throws Exception {
        PretrainCommand c = new PretrainCommand();
        assertEquals(2, c.run(new String[] {"--bogus", "1"}));
        assertEquals(2, c.run(new String[] {"--steps"}));
        assertEquals(2, c.run(new String[] {"--modality", "image"})); // no --run
        assertEquals(2, c.run(new String[] {"--modality", "video", "--run", tmp.resolve("r").toString()}));
        assertEquals(2, c.run(new String[] {"--modality", "image", "--run", tmp.resolve("r").toString(), "--steps", "ten"}));
        assertEquals(2, c.run(new String[] {"--resume", tmp.resolve("none").toString()}));
        Captured twice = Captured.run(() -> c.run("--seed", "1", "--seed", "2"));
        assertEquals(2, twice.code());
        assertEquals("d2v pretrain: --seed: given twice (d2v pretrain --help lists the options)\n", twice.err());
        Captured notANumber = Captured.run(() -> c.run("--modality=image", "--run", tmp.resolve("r").toString(), "--steps=ten"));
        assertEquals("d2v pretrain: --steps: 'ten' is not an integer (d2v pretrain --help lists the options)\n", notANumber.err());
    }

    @Test
    void withoutAModelItSaysSo() throws Exception {
        PretrainCommand c = new PretrainCommand((config, device) -> {
            throw new UnsupportedOperationException("model not available in this build");
        });
        assertEquals(1, c.run(new String[] {"--modality", "image", "--run", tmp.resolve("r").toString(), "--backend", "reference"}));
    }

    @Test
    void aCrashedRunResumedFromTheCommandLineMatchesAStraightRun() throws Exception {
        String[] common = {"--modality", "image", "--backend", "reference", "--steps", "6", "--checkpoint-every", "2",
                "--batch", "3", "--seed", "5"};
        Path straight = tmp.resolve("straight"), crashed = tmp.resolve("crashed");
        assertEquals(0, new PretrainCommand(toy(-1)).run(concat(common, "--run", straight.toString())));
        Captured crash = Captured.run(() -> new PretrainCommand(toy(5)).run(concat(common, "--run", crashed.toString())));
        assertEquals(1, crash.code(), "a run that fails is exit 1");
        assertTrue(crash.err().startsWith("d2v pretrain: ") && !crash.err().contains("\tat "), crash.err());
        assertEquals(crashed.resolve("checkpoint-4"), Checkpoint.latest(crashed));
        assertEquals(0, new PretrainCommand(toy(-1)).run(new String[] {"--resume", crashed.toString()}));
        assertEquals(crashed.resolve("checkpoint-6"), Checkpoint.latest(crashed));
        assertEquals(losses(straight), losses(crashed));
        assertEquals(7, Files.readAllLines(crashed.resolve("metrics.csv")).size());
        assertTrue(Files.size(crashed.resolve("loss.png")) > 1000);
        // A new run into a used folder is refused.
        assertEquals(2, new PretrainCommand(toy(-1)).run(concat(common, "--run", straight.toString())));
    }

    @Test
    void stopAtHoldsForItsSessionOnlyAndTheResumesMatchAStraightRun() throws Exception {
        String[] common = {"--modality", "image", "--backend", "reference", "--steps", "6", "--checkpoint-every", "5", "--batch", "3"};
        Path straight = tmp.resolve("straight"), pieces = tmp.resolve("pieces");
        assertEquals(0, new PretrainCommand(toy(-1)).run(concat(common, "--run", straight.toString())));
        assertEquals(0, new PretrainCommand(toy(-1)).run(concat(common, "--stop-at", "2", "--run", pieces.toString())));
        assertEquals(pieces.resolve("checkpoint-2"), Checkpoint.latest(pieces));
        assertEquals(0, new PretrainCommand(toy(-1)).run("--resume", pieces.toString(), "--stop-at", "4"));
        assertEquals(pieces.resolve("checkpoint-4"), Checkpoint.latest(pieces), "--stop-at given with --resume holds for that session");
        assertFalse(Checkpoint.load(Checkpoint.latest(pieces)).manifest().config().containsKey("--stop-at"), "never recorded");
        assertEquals(0, new PretrainCommand(toy(-1)).run("--resume", pieces.toString()));
        assertEquals(pieces.resolve("checkpoint-6"), Checkpoint.latest(pieces), "the next resume runs to --steps");
        assertEquals(losses(straight), losses(pieces));
    }

    private static BiFunction<Data2VecConfig, Device, TrainableModel> toy(long crashAt) {
        return (config, device) -> {
            ToyModel m = new ToyModel(device, config.seed());
            m.crashAt = crashAt;
            return m;
        };
    }

    private static List<String> losses(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream()
                .map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).toList();
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
