package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** d2v demo: a short real run learns, --help explains, bad options are refused. */
class DemoCommandTest {
    private static String capture(String[] args, int expectedExit) throws Exception {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(p);
        System.setErr(p);
        try {
            assertEquals(expectedExit, new DemoCommand().run(args));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shortRunLowersTheHeldOutLoss() throws Exception {
        String log = capture(new String[] {"--steps", "40", "--warmup", "5", "--dim", "16", "--batch", "8", "--tokens", "8",
                "--lr", "0.005", "--log-every", "40"}, 0);
        double before = Double.parseDouble(log.replaceAll("(?s).*held-out loss before training ([0-9.]+).*", "$1"));
        double after = Double.parseDouble(log.replaceAll("(?s).*step   40 .*held-out ([0-9.]+).*", "$1"));
        assertTrue(after < before / 2, "held-out loss " + before + " -> " + after + "\n" + log);
        assertTrue(log.contains("samples/s"));
    }

    @Test
    void helpAndErrors() throws Exception {
        assertTrue(capture(new String[] {"--help"}, 0).contains("--max-seconds"));
        assertTrue(capture(new String[] {"--bogus", "1"}, 2).contains("unknown option --bogus"));
        assertTrue(capture(new String[] {"--steps", "x"}, 2).contains("not a number"));
    }
}
