package org.d2v.demo;

import java.io.PrintStream;
import java.util.Locale;
import org.d2v.autograd.F;
import org.d2v.autograd.Tape;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data.batch.BatchLoader;
import org.d2v.eval.LabeledSet;
import org.d2v.nn.ParameterStore;
import org.d2v.optim.AdamW;
import org.d2v.optim.CosineSchedule;
import org.d2v.optim.Optimizer;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Full fine-tuning of a {@link Classifier} (every parameter trains): cross-entropy, AdamW
 * (β 0.9/0.95, docs/algorithm.md §10), cosine schedule with linear warm-up, a seeded shuffle per epoch, test
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

    public static Result run(Classifier model, ParameterStore store, LabeledSet train, LabeledSet test, Options o, PrintStream out) {
        Device device = store.device();
        int perEpoch = train.size() / o.batchSize();
        if (perEpoch < 1) throw new IllegalArgumentException("batch " + o.batchSize() + " exceeds the " + train.size() + " training examples");
        long total = (long) perEpoch * o.epochs();
        CosineSchedule schedule = new CosineSchedule(o.lr(), Math.round(total * o.warmupFraction()), total, 0);
        double[] acc = new double[o.epochs()];
        double first = Double.NaN, last = Double.NaN;
        long t0 = System.nanoTime();
        RandomStream dropout = new RandomStream(o.seed() ^ 0x5EEDL);
        // The epoch's loss adds up on the device and is read once per epoch: a step never waits for it.
        try (Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.95, 1e-8, o.weightDecay()), schedule, o.clipNorm());
             Tensor lossSum = Tensor.zeros(device, store.dtype(), 1)) {
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                int[] perm = BatchLoader.permutation(o.seed(), epoch, train.size());
                device.ops().fill(lossSum, 0);
                for (int k = 0; k < perEpoch; k++) {
                    int[] idx = new int[o.batchSize()];
                    System.arraycopy(perm, k * o.batchSize(), idx, 0, idx.length);
                    model.train(dropout);
                    try (Scope update = Scope.open()) {
                        store.zeroGrads();
                        // Inputs of different shapes (clip or sentence lengths) go through in groups; each group's
                        // mean loss, weighted by its share of the batch, adds its gradient: the batch mean in all.
                        for (LabeledSet.Group g : train.groups(idx, o.batchSize())) {
                            try (Scope s = Scope.open(); Tape tape = Tape.record()) {
                                Tensor loss = F.scale(F.crossEntropy(model.logits(g.batch()), Tensor.ofInts(device, Shape.of(g.examples().length),
                                        labels(train.labels(), g.examples()))), (double) g.examples().length / idx.length);
                                tape.backward(loss);
                                device.ops().axpby(1, loss, 1, lossSum);
                            }
                        }
                        opt.step();
                    }
                }
                double mean = lossSum.item() / perEpoch;
                if (!Double.isFinite(mean)) throw new IllegalStateException("fine-tuning diverged in epoch " + (epoch + 1) + ": mean loss " + mean);
                if (epoch == 0) first = mean;
                last = mean;
                acc[epoch] = accuracy(model, test);
                out.printf(Locale.ROOT, "epoch %d/%d  train loss %.4f  test accuracy %.4f  (%.0f s)%n", epoch + 1, o.epochs(), mean, acc[epoch],
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        return new Result(acc, first, last, total, (System.nanoTime() - t0) / 1e9);
    }

    /** Test accuracy in eval mode, in groups of at most {@link Features#BATCH} equal-shaped inputs. */
    public static double accuracy(Classifier model, LabeledSet set) {
        model.eval();
        int correct = 0;
        for (LabeledSet.Group g : set.groups(set.all(), Features.BATCH)) {
            try (Scope s = Scope.open()) {
                double[] z = model.logits(g.batch()).toDoubles();
                int n = g.examples().length, classes = z.length / n;
                for (int i = 0; i < n; i++) {
                    int best = 0;
                    for (int c = 1; c < classes; c++) if (z[i * classes + c] > z[i * classes + best]) best = c;
                    if (best == set.labels()[g.examples()[i]]) correct++;
                }
            }
        }
        return (double) correct / set.size();
    }

    private static int[] labels(int[] labels, int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = labels[idx[i]];
        return out;
    }
}
