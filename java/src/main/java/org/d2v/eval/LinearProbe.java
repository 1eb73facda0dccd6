package org.d2v.eval;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The linear probe: multinomial logistic regression on fixed feature vectors, in double, with an L2
 * penalty on the weights (not the biases), fitted full-batch with L-BFGS after standardising the
 * features on the training split. Deterministic: the gradient is summed over fixed row blocks in a
 * fixed order, whatever the thread count.
 *
 * <p>Objective: mean cross-entropy + (l2 / 2) · ||W||².
 */
public final class LinearProbe {
    private static final int BLOCK = 512, HISTORY = 10;

    private final double l2;
    private final int maxIterations;
    private final double tolerance;

    private LinearProbe(Builder b) {
        this.l2 = b.l2;
        this.maxIterations = b.maxIterations;
        this.tolerance = b.tolerance;
    }

    public static Builder builder() { return new Builder(); }

    public static final class Builder {
        private double l2 = 1e-4;
        private int maxIterations = 300;
        private double tolerance = 1e-6;

        /** Weight-decay strength on the mean loss (default 1e-4: sklearn's C=1 at 10k examples). */
        public Builder l2(double v) { l2 = v; return this; }

        public Builder maxIterations(int v) { maxIterations = v; return this; }

        /** Stops when the largest gradient entry falls below this (default 1e-6). */
        public Builder tolerance(double v) { tolerance = v; return this; }

        public LinearProbe build() { return new LinearProbe(this); }
    }

    /** A fitted model on standardised features. */
    public record Model(Standardizer standardizer, double[] weights, int dim, int classes, int iterations, double loss) {
        public int[] predict(float[] x) {
            NonFiniteFeaturesException.check(x, dim, "the features to classify");
            double[] z = standardizer.apply(x);
            int n = z.length / dim;
            int[] out = new int[n];
            double[] logits = new double[classes];
            for (int i = 0; i < n; i++) {
                logits(weights, z, i, dim, classes, logits);
                int best = 0;
                for (int c = 1; c < classes; c++) if (logits[c] > logits[best]) best = c;
                out[i] = best;
            }
            return out;
        }
    }

    /** Fits on the train split and reports accuracy on both splits. */
    public ProbeResult evaluate(float[] trainX, int[] trainY, float[] testX, int[] testY, int dim, int classes) {
        Model m = fit(trainX, trainY, dim, classes);
        return new ProbeResult(accuracy(m.predict(trainX), trainY), accuracy(m.predict(testX), testY), m.iterations(), m.loss());
    }

    /** Fits on n = trainX.length / dim rows. */
    public Model fit(float[] trainX, int[] y, int dim, int classes) {
        if (trainX.length != (long) y.length * dim) throw new IllegalArgumentException("features hold " + trainX.length + " values, not " + y.length + " x " + dim);
        for (int l : y) if (l < 0 || l >= classes) throw new IllegalArgumentException("label " + l + " outside [0, " + classes + ")");
        NonFiniteFeaturesException.check(trainX, dim, "the training features");
        Standardizer st = Standardizer.fit(trainX, dim);
        double[] x = st.apply(trainX);
        int p = classes * (dim + 1);
        double[] w = new double[p], g = new double[p];
        double f = objective(x, y, dim, classes, w, g);
        double[][] s = new double[HISTORY][], yy = new double[HISTORY][];
        double[] rho = new double[HISTORY];
        int stored = 0, iter = 0;
        while (iter < maxIterations && maxAbs(g) > tolerance) {
            iter++;
            double[] d = direction(g, s, yy, rho, stored);
            double slope = dot(g, d);
            if (slope >= 0) { // not a descent direction (curvature pairs went stale): restart from steepest descent
                stored = 0;
                d = negate(g);
                slope = dot(g, d);
            }
            double step = stored == 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;
            double[] wNew = new double[p], gNew = new double[p];
            double fNew;
            while (true) { // backtracking until the Armijo condition holds
                for (int i = 0; i < p; i++) wNew[i] = w[i] + step * d[i];
                fNew = objective(x, y, dim, classes, wNew, gNew);
                if (fNew <= f + 1e-4 * step * slope || step < 1e-12) break;
                step *= 0.5;
            }
            double[] sk = new double[p], yk = new double[p];
            for (int i = 0; i < p; i++) {
                sk[i] = wNew[i] - w[i];
                yk[i] = gNew[i] - g[i];
            }
            double sy = dot(sk, yk);
            if (sy > 1e-12) {
                if (stored == HISTORY) {
                    System.arraycopy(s, 1, s, 0, HISTORY - 1);
                    System.arraycopy(yy, 1, yy, 0, HISTORY - 1);
                    System.arraycopy(rho, 1, rho, 0, HISTORY - 1);
                    stored--;
                }
                s[stored] = sk;
                yy[stored] = yk;
                rho[stored] = 1 / sy;
                stored++;
            }
            boolean stalled = f - fNew <= 1e-12 * Math.max(1, Math.abs(f));
            w = wNew;
            g = gNew;
            f = fNew;
            if (stalled) break;
        }
        return new Model(st, w, dim, classes, iter, f);
    }

    /** Two-loop recursion: the L-BFGS approximation of -H⁻¹g. */
    private static double[] direction(double[] g, double[][] s, double[][] y, double[] rho, int m) {
        double[] q = g.clone();
        double[] alpha = new double[m];
        for (int k = m - 1; k >= 0; k--) {
            alpha[k] = rho[k] * dot(s[k], q);
            axpy(-alpha[k], y[k], q);
        }
        if (m > 0) {
            double gamma = dot(s[m - 1], y[m - 1]) / dot(y[m - 1], y[m - 1]);
            for (int i = 0; i < q.length; i++) q[i] *= gamma;
        }
        for (int k = 0; k < m; k++) {
            double beta = rho[k] * dot(y[k], q);
            axpy(alpha[k] - beta, s[k], q);
        }
        for (int i = 0; i < q.length; i++) q[i] = -q[i];
        return q;
    }

    /** Mean cross-entropy + l2/2 ||W||²; writes the gradient into {@code grad}. Layout: W (classes × dim), then b. */
    private double objective(double[] x, int[] y, int dim, int classes, double[] w, double[] grad) {
        int n = y.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        double[][] partG = new double[blocks][];
        double[] partL = new double[blocks];
        IntStream.range(0, blocks).parallel().forEach(b -> {
            double[] gb = new double[grad.length];
            double[] logits = new double[classes];
            double loss = 0;
            for (int i = b * BLOCK; i < Math.min(n, (b + 1) * BLOCK); i++) {
                logits(w, x, i, dim, classes, logits);
                double max = Arrays.stream(logits).max().orElse(0), sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.exp(logits[c] - max);
                loss += Math.log(sum) + max - logits[y[i]];
                int row = i * dim;
                for (int c = 0; c < classes; c++) {
                    double r = Math.exp(logits[c] - max) / sum - (c == y[i] ? 1 : 0);
                    int wc = c * dim;
                    for (int j = 0; j < dim; j++) gb[wc + j] += r * x[row + j];
                    gb[classes * dim + c] += r;
                }
            }
            partG[b] = gb;
            partL[b] = loss;
        });
        Arrays.fill(grad, 0);
        double loss = 0;
        for (int b = 0; b < blocks; b++) {
            loss += partL[b];
            for (int i = 0; i < grad.length; i++) grad[i] += partG[b][i];
        }
        double reg = 0;
        for (int i = 0; i < grad.length; i++) {
            grad[i] /= n;
            if (i < classes * dim) {
                grad[i] += l2 * w[i];
                reg += w[i] * w[i];
            }
        }
        return loss / n + 0.5 * l2 * reg;
    }

    private static void logits(double[] w, double[] x, int i, int dim, int classes, double[] out) {
        int row = i * dim;
        for (int c = 0; c < classes; c++) {
            double z = w[classes * dim + c];
            int wc = c * dim;
            for (int j = 0; j < dim; j++) z += w[wc + j] * x[row + j];
            out[c] = z;
        }
    }

    public static double accuracy(int[] predicted, int[] truth) {
        int ok = 0;
        for (int i = 0; i < truth.length; i++) if (predicted[i] == truth[i]) ok++;
        return truth.length == 0 ? 0 : (double) ok / truth.length;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) y[i] += a * x[i];
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) m = Math.max(m, Math.abs(d));
        return m;
    }

    private static double[] negate(double[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) o[i] = -v[i];
        return o;
    }
}
