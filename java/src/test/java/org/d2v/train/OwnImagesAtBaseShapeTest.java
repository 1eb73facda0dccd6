package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Probe;
import org.d2v.eval.LabeledFolders;
import org.d2v.eval.ProbeTask;
import org.d2v.optim.CosineSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * image-base's input shape (224×224×3, patch 16: 14×14 tokens) on real files, on a micro model
 * of that shape: a folder of mixed-size RGB and grey PNG/JPEGs pretrains two steps on the
 * reference backend and its ImageFolder tree is probed.
 */
class OwnImagesAtBaseShapeTest {
    @TempDir Path tmp;

    static final String BACKEND = System.getProperty("d2v.test.backend", "reference");

    static Data2VecConfig micro224() {
        ModalityConfig.Image base = (ModalityConfig.Image) Presets.imageBase().modality();
        return Presets.imageMicro().withModality(new ModalityConfig.Image(base.size(), base.channels(), base.patch(), 1)).withBatchSize(2);
    }

    @Test
    void pretrainsAndProbesAtImageBasesShape() throws Exception {
        Path dir = tmp.resolve("img");
        Random r = new Random(9);
        for (String cls : new String[] {"blue", "red"}) {
            Files.createDirectories(dir.resolve(cls));
            for (int i = 0; i < 5; i++) {
                int w = 150 + r.nextInt(200), h = 120 + r.nextInt(200);
                BufferedImage im = new BufferedImage(w, h, i % 2 == 0 ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int v = (int) (127 + 120 * Math.sin((x + 2 * y) / 9.0 + i));
                        im.setRGB(x, y, cls.equals("red") ? v << 16 | 40 : 40 << 16 | v);
                    }
                }
                ImageIO.write(im, i % 3 == 0 ? "jpg" : "png", dir.resolve(cls).resolve(i + (i % 3 == 0 ? ".jpg" : ".png")).toFile());
            }
        }
        Data2VecConfig cfg = micro224();
        Path run = tmp.resolve("run");
        try (Device dev = Backends.open(BACKEND); BatchSource src = TrainingData.open(dir.toString(), cfg, 3);
             TrainableModel model = ModelFactory.build(cfg, dev)) {
            assertTrue(src.describe().contains("10 image files") && src.describe().contains("224x224x3"), src.describe());
            long t0 = System.nanoTime();
            Pretrainer.Result res = Pretrainer.builder().model(model).source(src).runDir(run).steps(2).schedule(new CosineSchedule(1e-3, 0, 2, 0))
                    .seed(3).checkpointEvery(0).plot(false).describe(cfg.name(), "image").build().run();
            System.out.printf("2 steps at 224x224x3 on %s: %.1f s%n", BACKEND, (System.nanoTime() - t0) / 1e9);
            assertEquals(2, res.metrics().size());
            assertTrue(Double.isFinite(res.metrics().get(1).loss()));
            src.seek(0);
            Batch.Images b = (Batch.Images) src.next();
            assertEquals(224, b.height());
            assertEquals(3, b.channels());
        }
        ProbeTask task = LabeledFolders.task(dir, null, cfg, null);
        assertEquals(8, task.train().size());
        assertEquals(2, task.test().size());
        try (Device dev = Backends.open(BACKEND); FeatureModel fm = Data2VecFeatures.create(cfg, dev)) {
            Checkpoint.load(Checkpoint.latest(run)).restore(fm.state());
            long t0 = System.nanoTime();
            Probe.Outcome p = Probe.encoder("pretrained", fm, task), raw = Probe.raw(task);
            System.out.printf("probe: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            assertTrue(p.testAccuracy() >= 0 && p.testAccuracy() <= 1);
            assertEquals(1.0, raw.testAccuracy(), 1e-9, "red vs blue is plain in the (pooled 32x32x3) raw pixels");
        }
    }
}
