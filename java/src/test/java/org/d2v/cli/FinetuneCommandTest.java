package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FinetuneCommandTest {
    @TempDir Path tmp;

    @Test
    void helpExplainsEveryOptionAndBadLinesAreUsageErrors() throws Exception {
        HelpText.explainsEveryOption(new FinetuneCommand(), "--run", "--checkpoint", "--data", "--backend", "--epochs", "--batch", "--lr",
                "--weight-decay", "--warmup", "--clip", "--train", "--test", "--seed", "--domain", "--from-scratch", "--test-data", "--precision");
        FinetuneCommand c = new FinetuneCommand();
        assertEquals(2, c.run(new String[] {}));
        assertEquals(2, c.run(new String[] {"--epochs", "0", "--run", tmp.toString()}));
        assertEquals(2, c.run(new String[] {"--run", tmp.resolve("none").toString()}));
        assertEquals(2, c.run(new String[] {"--frobnicate"}));
        assertEquals(2, c.run(new String[] {"--warmup", "1", "--run", tmp.toString()}));
    }
}
