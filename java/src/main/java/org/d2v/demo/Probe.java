package org.d2v.demo;

import org.d2v.eval.LabeledSet;
import org.d2v.eval.LinearProbe;
import org.d2v.eval.ProbeTask;
import org.d2v.eval.RawFeatures;
import org.d2v.eval.ProbeResult;

/**
 * The linear probe of the demo (data's L-BFGS logistic regression on standardised features):
 * on a model's frozen pooled features, or on the task's raw features (pixels, log-spectra, bag of words) as the floor. The L2 strength is chosen
 * from {@link #L2_GRID} on a held-out fifth of the TRAINING features (never the test set), then the
 * probe is refitted on all training features with it; every feature set gets the same procedure.
 */
public final class Probe {
    /** Candidate L2 strengths (on the mean loss); 1e-4 is LinearProbe's default. */
    static final double[] L2_GRID = {1e-4, 1e-3, 1e-2};
    /** Training examples held out for choosing L2: every HOLD_OUT-th one. */
    static final int HOLD_OUT = 5;

    private Probe() {}

    /** What one probe measured, the L2 it chose, and how long feature extraction and fitting took. */
    public record Outcome(String what, int trainSize, int testSize, double trainAccuracy, double testAccuracy, double seconds, double l2) {}

    /** The probe on frozen features of {@code model} for the task's training and test examples. */
    public static Outcome encoder(String what, FeatureModel model, ProbeTask task) {
        long t0 = System.nanoTime();
        float[] tr = Features.pooled(model, task.train()), te = Features.pooled(model, task.test());
        return fit(what, tr, te, model.featureDim(), task, t0);
    }

    /** The same probe on the task's raw features: its floor. */
    public static Outcome raw(ProbeTask task) {
        long t0 = System.nanoTime();
        RawFeatures.Matrices m = task.raw().of(task.train(), task.test());
        return fit(task.raw().name(), m.train(), m.test(), m.dim(), task, t0);
    }

    private static Outcome fit(String what, float[] tr, float[] te, int dim, ProbeTask task, long t0) {
        LabeledSet train = task.train(), test = task.test();
        double l2 = chooseL2(tr, train.labels(), dim, train.classes());
        ProbeResult r = LinearProbe.builder().l2(l2).build().evaluate(tr, train.labels(), te, test.labels(), dim, train.classes());
        return new Outcome(what, train.size(), test.size(), r.trainAccuracy(), r.testAccuracy(), (System.nanoTime() - t0) / 1e9, l2);
    }

    /** The grid's L2 with the best accuracy on every HOLD_OUT-th training example, fitted on the rest (ties: the smaller L2). */
    static double chooseL2(float[] x, int[] y, int dim, int classes) { return chooseL2(x, y, dim, classes, L2_GRID); }

    /** The same choice over another grid (the probe check of {@link ProbeVariants}). */
    static double chooseL2(float[] x, int[] y, int dim, int classes, double[] grid) {
        int n = y.length, held = (n + HOLD_OUT - 1) / HOLD_OUT;
        if (held < classes || n - held < classes) return grid[0];
        float[] fitX = new float[(n - held) * dim], valX = new float[held * dim];
        int[] fitY = new int[n - held], valY = new int[held];
        for (int i = 0, f = 0, v = 0; i < n; i++) {
            if (i % HOLD_OUT == 0) {
                System.arraycopy(x, i * dim, valX, v * dim, dim);
                valY[v++] = y[i];
            } else {
                System.arraycopy(x, i * dim, fitX, f * dim, dim);
                fitY[f++] = y[i];
            }
        }
        double best = grid[0], bestAcc = -1;
        for (double l2 : grid) {
            double acc = LinearProbe.accuracy(LinearProbe.builder().l2(l2).build().fit(fitX, fitY, dim, classes).predict(valX), valY);
            if (acc > bestAcc) {
                bestAcc = acc;
                best = l2;
            }
        }
        return best;
    }
}
