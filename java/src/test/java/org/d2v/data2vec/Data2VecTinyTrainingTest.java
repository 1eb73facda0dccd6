package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.tensor.DType;
import org.d2v.train.StepStats;
import org.junit.jupiter.api.Test;

/**
 * A short pretraining run of each tiny preset on generated structured data: the regression loss
 * goes down, nothing collapses, and no device memory leaks between steps.
 */
class Data2VecTinyTrainingTest {
    static final int STEPS = Integer.getInteger("d2v.tinySteps", 40);

    @Test void imageLearns() { run(Presets.imageMicro()); }

    @Test void audioLearns() { run(Presets.audioMicro()); }

    @Test void textLearns() { run(Presets.textMicro()); }

    private static void run(Data2VecConfig cfg) {
        ReferenceDevice device = new ReferenceDevice(DType.F32);
        Random data = new Random(7);
        RandomStream rng = new RandomStream(11);
        try (Data2Vec model = new Data2Vec(device, cfg)) {
            long bytes = -1;
            double first = 0, last = 0;
            int window = 5;
            long t0 = System.nanoTime();
            for (int step = 1; step <= STEPS; step++) {
                double lr = cfg.optim().lr() * Math.min(1.0, step / 5.0);
                StepStats s = model.trainStep(TinyData.batch(cfg, data), step, lr, rng);
                assertTrue(Double.isFinite(s.loss()), "loss at step " + step);
                if (step <= window) first += s.regression() / window;
                if (step > STEPS - window) last += s.regression() / window;
                if (step == 2) bytes = device.bytesInUse();
                if (step > 2) assertEquals(bytes, device.bytesInUse(), "device memory changed at step " + step);
                System.out.printf("%s step %d loss %.5f reg %.5f cls %.5f tstd %.4f pstd %.4f gnorm %.4f%n", cfg.name(), step,
                        s.loss(), s.regression(), s.cls(), s.targetStd(), s.predStd(), s.gradNorm());
            }
            System.out.printf("%s: %d steps in %.1f s, regression loss %.5f (first %d) -> %.5f (last %d)%n", cfg.name(), STEPS,
                    (System.nanoTime() - t0) / 1e9, first, window, last, window);
            assertTrue(last < 0.8 * first, cfg.name() + ": regression loss did not drop: " + first + " -> " + last);
        }
    }
}
