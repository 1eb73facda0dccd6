package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.d2v.demo.DemoRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @TempDir Path tmp;

    @Test
    void helpExplainsEveryOption() throws Exception {
        HelpText.explainsEveryOption(new DemoCommand(), "--data", "--run", "--minutes", "--backend", "--preset", "--batch", "--clones", "--lr",
                "--probe-points", "--probe-train", "--probe-test", "--quick-train", "--quick-test", "--calibration-steps",
                "--no-flip", "--study", "--seed", "--features", "--mask", "--modality", "--ema", "--steps", "--precision");
    }

    @Test
    void badCommandLinesAreUsageErrors() throws Exception {
        DemoCommand c = new DemoCommand();
        assertEquals(2, c.run(new String[] {"--bogus", "1"}));
        assertEquals(2, c.run(new String[] {"--minutes"}));
        assertEquals(2, c.run(new String[] {"--minutes", "-1"}));
        assertEquals(2, c.run(new String[] {"--backend", "quantum"}));
        assertEquals(2, c.run(new String[] {"--preset", "text-tiny"})); // not an image preset
        assertEquals(2, c.run(new String[] {"--modality", "smell"}));
        assertEquals(2, c.run(new String[] {"--modality", "audio", "--study"}));
        assertEquals(2, c.run(new String[] {"--ema", "0.99"}));
        assertEquals(2, c.run(new String[] {"--data", tmp.resolve("nothing").toString()})); // not installed
    }

    @Test
    void optionsReachTheRun() {
        DemoCommand c = new DemoCommand();
        // Both spellings of an option: --k v and --k=v.
        c.commandLine().parseArgs("--minutes", "1.5", "--batch=8", "--clones", "2", "--lr=0.01",
                "--backend", "reference", "--run", tmp.toString(), "--probe-points", "3", "--modality", "text", "--ema=0.995,0.9995");
        DemoRun.Options o = c.options();
        assertEquals(90, o.budgetSeconds(), 1e-9);
        assertEquals(8, o.config().batchSize());
        assertEquals(2, o.config().clones());
        assertEquals(0.01, o.config().optim().lr(), 1e-12);
        assertEquals(List.of("reference"), o.backends());
        assertEquals(3, o.probePoints());
        assertEquals("text-demo", o.config().name());
        assertEquals(0.995, o.config().ema().start(), 0);
        assertEquals(0.9995, o.config().ema().end(), 0);
        assertThrows(IllegalArgumentException.class, () -> DemoCommand.backends("quantum"));
    }
}
