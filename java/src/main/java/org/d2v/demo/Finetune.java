package org.d2v.demo;

import java.io.PrintStream;
import java.util.Locale;
import org.d2v.autograd.F;
import org.d2v.autograd.Tape;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data.batch.BatchLoader;
import org.d2v.data.image.Images;
import org.d2v.data.image.LabeledImages;
import org.d2v.nn.ParameterStore;
import org.d2v.optim.AdamW;
import org.d2v.optim.CosineSchedule;
import org.d2v.optim.Optimizer;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Full fine-tuning of an {@link ImageClassifier} (every parameter trains): cross-entropy, AdamW
 * (β 0.9/0.95, spec §10), cosine schedule with linear warm-up, a seeded shuffle per epoch, test
 * accuracy after each epoch.
 */
public final class Finetune {
    /** Options; {@code warmupFraction} of all updates warm up linearly. */
    public record Options(int epochs, int batchSize, double lr, double weightDecay, double warmupFraction, double clipNorm, long seed) {
        public Options {
            if (epochs < 1 || batchSize < 1) throw new IllegalArgumentException("epochs and batch must be >= 1");
            if (!(lr > 0) || weightDecay < 0 || warmupFraction < 0 || warmupFraction >= 1 || clipNorm < 0) {
                throw new IllegalArgumentException("bad fine-tuning schedule");
            }
        }
    }

    /** Per-epoch test accuracies and the mean training loss of the first and last epoch. */
    public record Result(double[] testAccuracy, double firstEpochLoss, double lastEpochLoss, long updates, double seconds) {}

    private Finetune() {}

    public static Result run(ImageClassifier model, ParameterStore store, LabeledImages train, LabeledImages test, Options o, PrintStream out) {
        Device device = store.device();
        int perEpoch = train.size() / o.batchSize();
        if (perEpoch < 1) throw new IllegalArgumentException("batch " + o.batchSize() + " exceeds the " + train.size() + " training images");
        long total = (long) perEpoch * o.epochs();
        CosineSchedule schedule = new CosineSchedule(o.lr(), Math.round(total * o.warmupFraction()), total, 0);
        double[] acc = new double[o.epochs()];
        double first = Double.NaN, last = Double.NaN;
        long t0 = System.nanoTime();
        RandomStream dropout = new RandomStream(o.seed() ^ 0x5EEDL);
        try (Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.95, 1e-8, o.weightDecay()), schedule, o.clipNorm())) {
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                int[] perm = BatchLoader.permutation(o.seed(), epoch, train.size());
                double sum = 0;
                for (int k = 0; k < perEpoch; k++) {
                    int[] idx = new int[o.batchSize()];
                    System.arraycopy(perm, k * o.batchSize(), idx, 0, idx.length);
                    model.train(dropout);
                    try (Scope s = Scope.open(); Tape tape = Tape.record()) {
                        store.zeroGrads();
                        Tensor loss = F.crossEntropy(model.logits(images(store, train.images(), idx)),
                                Tensor.ofInts(device, Shape.of(idx.length), labels(train.labels(), idx)));
                        tape.backward(loss);
                        opt.step();
                        sum += loss.item();
                    }
                }
                double mean = sum / perEpoch;
                if (epoch == 0) first = mean;
                last = mean;
                acc[epoch] = accuracy(model, store, test);
                out.printf(Locale.ROOT, "epoch %d/%d  train loss %.4f  test accuracy %.4f  (%.0f s)%n", epoch + 1, o.epochs(), mean, acc[epoch],
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        return new Result(acc, first, last, total, (System.nanoTime() - t0) / 1e9);
    }

    /** Test accuracy in eval mode, in batches of {@link Features#BATCH}. */
    public static double accuracy(ImageClassifier model, ParameterStore store, LabeledImages set) {
        model.eval();
        int correct = 0;
        for (int first = 0; first < set.size(); first += Features.BATCH) {
            int n = Math.min(Features.BATCH, set.size() - first);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) idx[i] = first + i;
            try (Scope s = Scope.open()) {
                double[] z = model.logits(images(store, set.images(), idx)).toDoubles();
                int classes = z.length / n;
                for (int i = 0; i < n; i++) {
                    int best = 0;
                    for (int c = 1; c < classes; c++) if (z[i * classes + c] > z[i * classes + best]) best = c;
                    if (best == set.labels()[first + i]) correct++;
                }
            }
        }
        return (double) correct / set.size();
    }

    private static Tensor images(ParameterStore store, Images images, int[] idx) {
        int size = images.imageSize();
        float[] px = new float[idx.length * size];
        for (int i = 0; i < idx.length; i++) System.arraycopy(images.pixels(), idx[i] * size, px, i * size, size);
        return ImageClassifier.upload(store.device(), store.dtype(), px, idx.length, images.height(), images.width(), images.channels());
    }

    private static int[] labels(int[] labels, int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = labels[idx[i]];
        return out;
    }
}
