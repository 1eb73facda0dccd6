package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiFunction;
import org.d2v.backend.Device;
import org.d2v.data2vec.config.Data2VecConfig;
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
                "--resume", "--init", "--seed", "--checkpoint-every", "--keep-last", "--lr", "--warmup", "--progress-seconds", "--tokenizer", "--precision");
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
