package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** d2v demo then d2v probe through the command line, on a data folder made of the 200 test images of testdata/. */
class ProbeCommandTest {
    @TempDir Path tmp;

    @Test
    void helpExplainsEveryOption() throws Exception {
        HelpText.explainsEveryOption(new ProbeCommand(), "--run", "--checkpoint", "--data", "--backend", "--probe-train", "--probe-test",
                "--features", "--domain", "--random-init", "--test-data", "--precision");
        assertEquals(2, new ProbeCommand().run(new String[] {}));
        assertEquals(2, new ProbeCommand().run(new String[] {"--run", tmp.resolve("none").toString()}));
    }

    @Test
    void probeOfTheDemoRunReproducesTheDemosFinalProbe() throws Exception {
        Path data = tmp.resolve("data"), set = data.resolve("fashion-mnist"), run = tmp.resolve("run");
        Files.createDirectories(set);
        for (String split : new String[] {"train", "t10k"}) {
            Files.copy(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), set.resolve(split + "-images-idx3-ubyte.gz"));
            Files.copy(TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), set.resolve(split + "-labels-idx1-ubyte.gz"));
        }
        String demoOut = capture(() -> assertEquals(0, new DemoCommand().run(new String[] {"--data", data.toString(), "--run", run.toString(),
                "--preset", "image-micro", "--backend", "reference", "--minutes", "0.02", "--batch", "4", "--probe-points", "1",
                "--calibration-steps", "2", "--probe-train", "120", "--probe-test", "40", "--quick-train", "20", "--quick-test", "10"})));
        assertTrue(demoOut.contains("report: " + run.resolve("report.md")), demoOut);
        double demoAcc = number(demoOut, "pretrained\\s+([0-9.]+)");

        String probeOut = capture(() -> assertEquals(0, new ProbeCommand().run(new String[] {"--run", run.toString(), "--data", data.toString(),
                "--backend", "reference", "--probe-train", "120", "--probe-test", "40"})));
        assertEquals(String.format(Locale.ROOT, "%.4f", demoAcc), String.format(Locale.ROOT, "%.4f", number(probeOut, "pretrained\\s+test ([0-9.]+)")),
                probeOut);
        assertTrue(probeOut.contains("raw pixels"), probeOut);
    }

    interface Body { void run() throws Exception; }

    private static String capture(Body body) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            body.run();
        } finally {
            System.setOut(saved);
        }
        String s = buf.toString();
        saved.print(s);
        return s;
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in\n" + text);
        return Double.parseDouble(m.group(1));
    }
}
