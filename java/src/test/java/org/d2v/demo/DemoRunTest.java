package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.LabeledImages;
import org.d2v.data2vec.config.Presets;
import org.d2v.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole demo pipeline on the 200 real Fashion-MNIST test images of testdata/, with the micro model. */
class DemoRunTest {
    @TempDir Path tmp;

    @Test
    void endToEndWritesTheReportWithTheThreeNumbers() throws Exception {
        LabeledImages all = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        LabeledImages train = all.head(150);
        LabeledImages test = slice(all, 150, 200);
        FashionData data = FashionData.of(train, test);
        Path run = tmp.resolve("run");
        DemoRun.Options o = new DemoRun.Options(run, Presets.imageMicro(), List.of("reference"), 2.0, 2, 2, 150, 50, 60, 30, 1, 3);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DemoResult r = new DemoRun(o, Data2VecFeatures::create, new PrintStream(log, true)).run(DemoData.fashion(data, true));

        assertEquals("reference", r.backend());
        assertTrue(r.steps() >= 2 && r.steps() % 2 == 0, "steps " + r.steps());
        assertEquals(3, r.curve().size());
        assertEquals(r.steps(), r.curve().get(2).step());
        DemoResult.TaskResult t = r.first();
        assertEquals(150, t.pretrained().trainSize());
        assertEquals(50, t.pretrained().testSize());
        for (Probe.Outcome p : List.of(t.pretrained(), t.randomInit(), t.raw())) {
            assertTrue(p.testAccuracy() >= 0 && p.testAccuracy() <= 1, p.toString());
        }
        // Raw pixels separate Fashion-MNIST classes far above chance (0.1) even from 150 images.
        assertEquals("raw pixels", t.raw().what());
        assertTrue(t.raw().testAccuracy() > 0.4, "raw pixels " + t.raw().testAccuracy());
        assertTrue(Double.isFinite(r.lossStart()) && Double.isFinite(r.lossEnd()));

        String md = Files.readString(run.resolve(Report.MARKDOWN));
        for (Probe.Outcome p : List.of(t.pretrained(), t.randomInit(), t.raw())) {
            String row = String.format(Locale.ROOT, "| %s | %.4f |", p.what(), p.testAccuracy());
            assertTrue(md.contains(row), "report lacks " + row + "\n" + md);
        }
        for (String png : new String[] {"loss.png", Report.PROBE_PLOT, MaskFigure.FILE, ReconstructionFigure.FILE}) {
            assertNotNull(ImageIO.read(run.resolve(png).toFile()), png);
        }
        assertTrue(md.contains("`" + ReconstructionFigure.FILE + "`: the targets' first principal component"), md);
        assertTrue(md.contains("R² "), md);
        assertTrue(Files.exists(run.resolve("metrics.csv")));
        assertEquals("checkpoint-" + r.steps(), Checkpoint.latest(run).getFileName().toString());
        assertTrue(log.toString().contains("calibration: reference"), log.toString());
    }

    private static LabeledImages slice(LabeledImages s, int from, int to) {
        int size = s.images().imageSize();
        float[] px = java.util.Arrays.copyOfRange(s.images().pixels(), from * size, to * size);
        return new LabeledImages(new org.d2v.data.image.Images(to - from, s.images().height(), s.images().width(), s.images().channels(), px),
                java.util.Arrays.copyOfRange(s.labels(), from, to), s.classes());
    }
}
