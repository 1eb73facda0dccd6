package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.d2v.eval.ProbeTask;
import org.d2v.eval.RawFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir Path tmp;

    /** The Fashion-MNIST task's bar with these accuracies (the sets are not read). */
    static DemoResult.TaskResult fashionResult(double pretrained, double random) {
        ProbeTask task = new ProbeTask("Fashion-MNIST test", null, null, RawFeatures.pixels(), ProbeTasks.FASHION_FLOOR, ProbeTasks.FASHION_MIN_GAIN);
        return DemoResult.TaskResult.of(task, new Probe.Outcome("pretrained", 10000, 10000, 0.9, pretrained, 40, 1e-4),
                new Probe.Outcome("random init", 10000, 10000, 0.8, random, 41, 1e-4), new Probe.Outcome("raw pixels", 10000, 10000, 0.9, 0.8123, 12, 1e-4));
    }

    static DemoResult fakeRun(double pretrained, double random) {
        return fakeRun(List.of(fashionResult(pretrained, random)));
    }

    static DemoResult fakeRun(List<DemoResult.TaskResult> tasks) {
        Map<String, Double> perStep = new LinkedHashMap<>();
        perStep.put("opencl", 0.5);
        perStep.put("reference", 1.25);
        List<DemoResult.CurvePoint> curve = List.of(
                new DemoResult.CurvePoint(0, 0, new Probe.Outcome("quick probe, step 0", 2000, 1000, 0.8, 0.61, 3, 1e-4)),
                new DemoResult.CurvePoint(50, 60, new Probe.Outcome("quick probe, step 50", 2000, 1000, 0.9, 0.74, 3, 1e-4)),
                new DemoResult.CurvePoint(100, 121, new Probe.Outcome("quick probe, step 100", 2000, 1000, 0.95, 0.79, 3, 1e-4)));
        return new DemoResult("Fashion-MNIST", "image-demo", "patch 7, D 96", "opencl", "opencl: pocl", perStep, 100, 64, 4, 120, 121.5, 52.7,
                3.25, 1.5, curve, tasks, List.of("`masks.png`: masks"), 300, List.of("a note"));
    }

    @Test
    void reportHoldsTheThreeNumbersAndTheRunFacts() throws Exception {
        Report.write(tmp, fakeRun(0.8437, 0.7311));
        String md = Files.readString(tmp.resolve(Report.MARKDOWN));
        assertTrue(md.startsWith("# d2v demo: data2vec 2.0 on Fashion-MNIST\n"), md);
        assertTrue(md.contains("## Fashion-MNIST test"), md);
        assertTrue(md.contains("| pretrained | 0.8437 |"), md);
        assertTrue(md.contains("| random init | 0.7311 |"), md);
        assertTrue(md.contains("| raw pixels | 0.8123 |"), md);
        assertTrue(md.contains("+11.3 points"), md);
        assertTrue(md.contains("minus raw pixels (0.8123, measured in this run): +3.1 points; minus the published floor (0.8180): +2.6 points"), md);
        assertTrue(md.contains("**met**"), md);
        assertTrue(md.contains("100 steps of 64 samples x 4 clones, 52.7 samples/s"), md);
        assertTrue(md.contains("opencl 0.500, reference 1.250"), md);
        assertTrue(md.contains("3.2500 at the start, 1.5000 at the end"), md);
        assertTrue(md.contains("| 50 | 60.0 s | 0.7400 (2000/1000) |"), md);
        assertTrue(md.contains("- `masks.png`: masks"), md);
        assertTrue(md.contains("- a note"), md);

        String json = Files.readString(tmp.resolve(Report.JSON));
        assertTrue(json.contains("\"pretrained\": 0.843700, \"random_init\": 0.731100, \"raw\": 0.812300, \"raw_features\": \"raw pixels\""), json);
        assertTrue(json.contains("\"bar_met\": true"), json);
        assertTrue(json.contains("{\"step\": 100, \"seconds\": 121.000, \"accuracy\": 0.790000}"), json);
    }

    /** The margin is taken over the raw-feature probe just measured, and over the published floor only as a second figure. */
    @Test
    void marginIsOverTheRawProbeOfThisRun() {
        ProbeTask fashion = new ProbeTask("Fashion-MNIST test", null, null, RawFeatures.pixels(), ProbeTasks.FASHION_FLOOR, ProbeTasks.FASHION_MIN_GAIN);
        assertEquals("pretrained is 18.0 points below raw pixels (0.7800, measured in this run); 21.8 points below the published raw pixels floor 0.8180",
                fashion.margin(0.6, 0.78));
        ProbeTask speech = new ProbeTask("digits", null, null, RawFeatures.pixels(), Double.NaN, 0);
        assertEquals("pretrained is 4.2 points above raw pixels (0.5000, measured in this run)", speech.margin(0.542, 0.5));
    }

    @Test
    void barIsNotMetBelowTheFloorOrWithoutTheGain() throws Exception {
        assertFalse(fashionResult(0.80, 0.70).met()); // under the floor
        assertFalse(fashionResult(0.84, 0.80).met()); // only 4 points over random
        assertTrue(fashionResult(0.84, 0.79).met());
        Report.write(tmp, fakeRun(0.80, 0.70));
        assertTrue(Files.readString(tmp.resolve(Report.MARKDOWN)).contains("**not met**"));
    }

    @Test
    void aTaskWithoutAPublishedFloorIsJudgedAgainstItsRawProbe() throws Exception {
        ProbeTask digits = new ProbeTask("spoken digits", null, null, RawFeatures.logSpectrum(64, 3), Double.NaN, 0);
        Probe.Outcome raw = new Probe.Outcome("log-spectrum 256-d", 1150, 260, 1.0, 0.3846, 1, 1e-4);
        DemoResult.TaskResult beats = DemoResult.TaskResult.of(digits, new Probe.Outcome("pretrained", 1150, 260, 0.9, 0.55, 1, 1e-4),
                new Probe.Outcome("random init", 1150, 260, 0.9, 0.49, 1, 1e-4), raw);
        DemoResult.TaskResult below = DemoResult.TaskResult.of(digits, new Probe.Outcome("pretrained", 1150, 260, 0.9, 0.38, 1, 1e-4),
                new Probe.Outcome("random init", 1150, 260, 0.9, 0.30, 1, 1e-4), raw);
        assertTrue(beats.met());
        assertEquals(0.3846, beats.floor(), 0);
        assertFalse(below.met());
        DemoResult r = fakeRun(List.of(beats, below));
        assertFalse(r.meetsBar());
        Report.write(tmp, r);
        String md = Files.readString(tmp.resolve(Report.MARKDOWN));
        assertTrue(md.contains("the log-spectrum 256-d probe of this run"), md);
        assertTrue(md.contains("| log-spectrum 256-d | 0.3846 |"), md);
    }

    @Test
    void probePlotIsAPngWithTheCurveDrawn() throws Exception {
        Report.write(tmp, fakeRun(0.8437, 0.7311));
        BufferedImage img = ImageIO.read(tmp.resolve(Report.PROBE_PLOT).toFile());
        assertNotNull(img);
        // The legend names each probe's size ("quick probe (2,000 train / 1,000 test)"): the canvas widens for it.
        assertTrue(img.getWidth() >= 720 && img.getWidth() < 900, "width " + img.getWidth());
        assertEquals(440, img.getHeight());
        // The first series' colour (the quick-probe curve) must appear inside the plot area.
        int blue = 0x1f77b4, found = 0;
        for (int y = 40; y < 390; y++) for (int x = 70; x < 550; x++) if ((img.getRGB(x, y) & 0xffffff) == blue) found++;
        assertTrue(found > 50, "curve pixels: " + found);
    }

    /** Grid lines at round values: 1, 2, 2.5 or 5 times a power of ten, labelled with the decimals of the step. */
    @Test
    void ticksAreRoundValues() {
        assertEquals(0.05, Charts.niceStep(0.047), 1e-15);
        assertEquals(0.25, Charts.niceStep(0.21), 1e-15);
        assertEquals(2000, Charts.niceStep(1234), 1e-9);
        assertEquals(1, Charts.niceStep(1), 0);
        assertArrayEquals(new double[] {0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85}, Charts.ticks(0.5412, 0.8755, 0.05), 1e-12);
        assertArrayEquals(new double[] {0, 2.5, 5, 7.5, 10}, Charts.ticks(0, 12.1, 2.5), 1e-12);
        assertEquals("0.65", Charts.label(0.65, 0.05));
        assertEquals("7.5", Charts.label(7.5, 2.5));
        assertEquals("0.0", Charts.label(1e-17, 0.1));
        assertEquals("12000", Charts.label(12000, 2000));
    }

    @Test
    void aLongLegendWidensTheCanvasAndLeavesThePlotAlone() throws Exception {
        Path shortOut = tmp.resolve("short.png"), longOut = tmp.resolve("long.png");
        double[] x = {0, 1}, y = {0.5, 0.7};
        Charts.lines(shortOut, "t", "x", "y", List.of(new Charts.Series("a", x, y, true)));
        Charts.lines(longOut, "t", "x", "y", List.of(new Charts.Series("a", x, y, true),
                new Charts.Series("MAE-style pixel targets, M = 1, a name far longer than the legend column", x, y, true)));
        BufferedImage a = ImageIO.read(shortOut.toFile()), b = ImageIO.read(longOut.toFile());
        assertEquals(720, a.getWidth());
        assertTrue(b.getWidth() > a.getWidth() + 200, "long legend: width " + b.getWidth());
        // The plot frame stays where it was: same pixel at its top-left corner.
        assertEquals(a.getRGB(70, 40), b.getRGB(70, 40));
    }

    @Test
    void tilesScaleEachImageToItsOwnRange() throws Exception {
        float[] ramp = new float[4 * 4];
        for (int i = 0; i < ramp.length; i++) ramp[i] = i - 3;
        Path out = tmp.resolve("t.png");
        Charts.tiles(out, "t", List.of("a"), List.of(List.of(new Charts.Tile(ramp, 4, 4))), 2);
        BufferedImage img = ImageIO.read(out.toFile());
        // tile at (10, 50), 8x8 pixels: the first value is black, the last white
        assertEquals(0x000000, img.getRGB(10, 50) & 0xffffff);
        assertEquals(0xffffff, img.getRGB(17, 57) & 0xffffff);
        assertNotEquals(img.getRGB(10, 50), img.getRGB(12, 50));
    }
}
