package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.d2v.train.RunFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pretrain → probe → finetune through the command line for speech and text runs (micro models, reference backend). */
class ModalityCommandsTest {
    @TempDir Path tmp;

    private static Captured pretrain(String modality, Path data, Path run) throws Exception {
        return Captured.run(() -> new PretrainCommand().run(new String[] {"--modality", modality, "--preset", "micro", "--data", data.toString(),
                "--backend", "reference", "--steps", "2", "--run", run.toString(), "--progress-seconds", "100"}));
    }

    @Test
    void speechRunIsProbedOnHeldOutVoicesAndFineTuned() throws Exception {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        DataFolders.speech(data);
        Captured pre = pretrain("audio", data, run);
        assertEquals(0, pre.code(), pre.err());
        Captured probe = Captured.run(() -> new ProbeCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(), "--backend", "reference",
                "--random-init"}));
        assertEquals(0, probe.code(), probe.err());
        assertTrue(probe.out().contains("spoken digits, held-out voices +klatt, flite/slt (18 spoken digits / 12 spoken digits of held-out voices)"), probe.out());
        assertTrue(probe.out().contains("spoken digits, espeak-ng -> flite (18 spoken digits / 12 flite spoken digits)"), probe.out());
        assertTrue(probe.out().contains("log-spectrum 256-d"), probe.out());
        assertTrue(probe.out().contains("random init"), probe.out());
        Captured ft = Captured.run(() -> new FinetuneCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(), "--backend", "reference",
                "--epochs", "1", "--batch", "6"}));
        assertEquals(0, ft.code(), ft.err());
        assertTrue(ft.out().contains("epoch 1/1"), ft.out());
    }

    @Test
    void textRunKeepsItsTokenizerAndIsProbedOnEachHeldOutDomain() throws Exception {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        DataFolders.text(data);
        Captured pre = pretrain("text", data, run);
        assertEquals(0, pre.code(), pre.err());
        assertEquals(Files.readString(data.resolve("text/bpe-4096.txt")), Files.readString(run.resolve(RunFiles.TOKENIZER)));
        Captured probe = Captured.run(() -> new ProbeCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(), "--backend", "reference"}));
        assertEquals(0, probe.code(), probe.err());
        for (String d : new String[] {"imdb", "amazon", "yelp"}) {
            assertTrue(probe.out().contains("sentiment, held-out domain " + d + " (24 sentences of the other domains / 12 " + d + " sentences)"), probe.out());
        }
        assertTrue(probe.out().contains("word order (as written or shuffled), held-out domain yelp (24 sentences of the other domains, half shuffled / 12 yelp sentences, half shuffled)"),
                probe.out());
        assertTrue(probe.out().contains("bag of words"), probe.out());
        Captured one = Captured.run(() -> new ProbeCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(), "--backend", "reference",
                "--domain", "yelp", "--features", "final"}));
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("held-out domain yelp") && !one.out().contains("held-out domain imdb"), one.out());
        Captured ft = Captured.run(() -> new FinetuneCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(), "--backend", "reference",
                "--epochs", "2", "--batch", "8", "--domain", "amazon"}));
        assertEquals(0, ft.code(), ft.err());
        assertTrue(ft.out().contains("held-out domain amazon") && ft.out().contains("epoch 2/2"), ft.out());
        Captured bad = Captured.run(() -> new ProbeCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(), "--domain", "tv"}));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown sentiment domain 'tv'"), bad.err());
    }
}
