package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.RuntimeCounters;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.train.StepStats;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a training step asks of the runtime once warm: no driver allocation or free, no host
 * synchronisation (no download, no wait); reading the statistics of all pending steps is one
 * download. On OpenCL (PoCL in CI) and on the reference backend, which counts its downloads the same way.
 */
class StepCountersTest {
    private static final double LR = 1e-3;

    @ParameterizedTest
    @CsvSource({"opencl, image-micro", "opencl, audio-micro", "opencl, text-micro",
                "reference, image-micro", "reference, audio-micro", "reference, text-micro"})
    void warmStepsNeitherAllocateNorWaitAndOneReadDrainsThemAll(String backend, String preset) {
        Data2VecConfig cfg = Presets.named(preset);
        try (Device dev = backend.equals("reference") ? new ReferenceDevice() : KernelTestBase.openOrSkip(backend);
             Data2Vec m = new Data2Vec(dev, cfg)) {
            RandomStream rng = new RandomStream(5);
            // Warm-up: three steps, since layerdrop (audio) may skip a block in one and leave the footprint unreached.
            for (int step = 1; step <= 3; step++) m.trainStep(TinyData.batch(cfg, new Random(step)), step, LR, rng).loss();
            List<Batch> batches = new ArrayList<>();
            for (int step = 4; step <= 7; step++) batches.add(TinyData.batch(cfg, new Random(step)));
            dev.resetCounters();
            List<StepStats> pending = new ArrayList<>();
            for (int step = 4; step <= 7; step++) pending.add(m.trainStep(batches.get(step - 4), step, LR, rng));
            RuntimeCounters steps = dev.counters();
            assertEquals(0, steps.hostSyncs(), preset + " on " + backend + ": four steps, " + steps);
            assertEquals(0, steps.bytesDownloaded(), steps.toString());
            assertEquals(0, steps.driverAllocations(), steps.toString());
            assertEquals(0, steps.driverFrees(), steps.toString());
            assertTrue(steps.bytesUploaded() > 0, steps.toString());
            if (!backend.equals("reference")) assertTrue(steps.launches() > 4 * 50, steps.toString());
            assertTrue(pending.stream().noneMatch(StepStats::ready), "nothing was read yet");
            double loss = pending.get(0).loss();
            RuntimeCounters read = dev.counters().minus(steps);
            assertEquals(1, read.hostSyncs(), "one read for all four steps: " + read);
            assertTrue(pending.stream().allMatch(StepStats::ready));
            assertTrue(Double.isFinite(loss) && pending.stream().allMatch(s -> s.problem() == null && s.gradNorm() > 0), pending.toString());
            assertEquals(0, dev.counters().minus(steps).driverAllocations());
        }
    }
}
