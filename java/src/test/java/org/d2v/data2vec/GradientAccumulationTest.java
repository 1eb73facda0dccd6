package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.dist.DataParallel;
import org.d2v.tensor.Tensor;
import org.d2v.train.BatchShare;
import org.d2v.train.StepStats;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * --update-freq in one process: an update on a global batch of 6 cut into micro-batches (even,
 * uneven, with an empty one) equals the update on the batch in one piece, loss terms, collapse
 * guards, gradient norm and every state tensor within float32 rounding. image-micro has the CLS
 * loss, audio-micro and text-micro have dropout (and audio layerdrop): their random draws must
 * follow the samples, not the micro-batches ({@link ShareStream}).
 */
class GradientAccumulationTest {
    private static final int GLOBAL = 6, STEPS = 2;

    @ParameterizedTest
    @CsvSource({"reference, image-micro", "reference, text-micro", "opencl, audio-micro"})
    void microBatchesSumToTheWholeBatch(String backend, String preset) {
        Data2VecConfig cfg = Presets.named(preset).withBatchSize(GLOBAL);
        List<Batch> data = new ArrayList<>();
        for (int step = 1; step <= STEPS; step++) data.add(TinyData.batch(cfg, new Random(step)));
        int[][] cuts = {{6}, {3, 3}, {1, 0, 5}};
        List<Trained> runs = new ArrayList<>();
        try (Device dev = backend.equals("reference") ? new ReferenceDevice() : KernelTestBase.openOrSkip(backend)) {
            for (int[] cut : cuts) runs.add(train(dev, cfg, data, cut));
        }
        Trained whole = runs.get(0);
        for (int c = 1; c < cuts.length; c++) {
            Trained cut = runs.get(c);
            double metrics = 0, state = 0, scale = 0;
            for (int i = 0; i < whole.metrics().length; i++) {
                metrics = Math.max(metrics, Math.abs(cut.metrics()[i] - whole.metrics()[i]) / Math.max(Math.abs(whole.metrics()[i]), 1e-12));
            }
            for (int i = 0; i < whole.state().length; i++) {
                state = Math.max(state, Math.abs(cut.state()[i] - whole.state()[i]));
                scale = Math.max(scale, Math.abs(whole.state()[i]));
            }
            String what = preset + " on " + backend + ", micro-batches " + Arrays.toString(cuts[c]) + " vs one batch of " + GLOBAL;
            System.out.printf(Locale.ROOT, "MEASURED %s: metrics %.2e (relative), state %.2e (of the largest value)%n", what, metrics, state / scale);
            assertTrue(metrics < 1e-5, what + ": metrics deviate by " + metrics);
            assertTrue(state / scale < 1e-5, what + ": state deviates by " + state / scale);
        }
    }

    /** Every step's loss terms, guard statistics and gradient norm, and the final state, all flattened. */
    private record Trained(double[] metrics, double[] state) {}

    private static Trained train(Device dev, Data2VecConfig cfg, List<Batch> data, int[] cut) {
        try (Data2Vec m = new Data2Vec(dev, cfg)) {
            RandomStream rng = new RandomStream(11);
            List<Double> metrics = new ArrayList<>();
            for (int step = 1; step <= data.size(); step++) {
                StepStats s = m.trainStep(share(data.get(step - 1), cut), step, cfg.optim().lr(), rng, DataParallel.SINGLE);
                for (double v : new double[] {s.loss(), s.regression(), s.cls(), s.targetStd(), s.predStd(), s.gradNorm()}) metrics.add(v);
                assertEquals(GLOBAL, s.samples());
            }
            assertEquals(Data2Vec.UPDATE_BLOCKS * data.size(), rng.position(), "every update takes its fixed range of the stream, however it is cut");
            List<Double> state = new ArrayList<>();
            for (Tensor t : m.state().values()) for (double v : t.toDoubles()) state.add(v);
            return new Trained(metrics.stream().mapToDouble(Double::doubleValue).toArray(), state.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    /** The batch cut into micro-batches of the given sizes, each knowing where its samples sit in the global batch. */
    static BatchShare share(Batch whole, int... sizes) {
        List<BatchShare.Part> parts = new ArrayList<>();
        int first = 0;
        for (int n : sizes) {
            parts.add(new BatchShare.Part(slice(whole, first, n), first));
            first += n;
        }
        assertEquals(whole.size(), first);
        return new BatchShare(parts, whole.size());
    }

    static Batch slice(Batch b, int first, int n) {
        if (b instanceof Batch.Images i) {
            int per = i.height() * i.width() * i.channels();
            return new Batch.Images(n, i.height(), i.width(), i.channels(), Arrays.copyOfRange(i.pixels(), first * per, (first + n) * per));
        }
        if (b instanceof Batch.Audio a) return new Batch.Audio(n, a.samples(), Arrays.copyOfRange(a.waves(), first * a.samples(), (first + n) * a.samples()));
        Batch.Text t = (Batch.Text) b;
        return new Batch.Text(n, t.length(), Arrays.copyOfRange(t.tokens(), first * t.length(), (first + n) * t.length()));
    }
}
