package org.d2v.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.d2v.tensor.Tensor;

/**
 * Finite-difference gradient check, meant for float64 tensors. A {@link Problem} runs the op(s)
 * under test and returns a scalar loss (typically Σ w ⊙ out with fixed random w, see {@link #dot});
 * asked for gradients, it also runs the backward op(s), writing into the gradient tensors
 * registered with {@link #wrt}. Gradients are zeroed before that run, as the training step does.
 * Each input's analytic gradient is compared with central differences, norm-wise:
 * ||analytic − numeric|| / max(||numeric||, tiny) must not exceed {@link #TOLERANCE}.
 */
public final class GradCheck {
    public static final double TOLERANCE = 1e-6;
    private static final double STEP = 1e-6;
    private static final double TINY = 1e-12;
    private static double worstSeen;

    /** Runs the computation; with {@code gradients} also its backward pass. Returns the loss. */
    @FunctionalInterface
    public interface Problem {
        double run(boolean gradients);
    }

    private record Input(String name, Tensor x, Tensor grad) {}

    private final Problem problem;
    private final List<Input> inputs = new ArrayList<>();

    private GradCheck(Problem problem) { this.problem = problem; }

    public static GradCheck of(Problem problem) { return new GradCheck(problem); }

    /** Checks ∂loss/∂x against what the backward pass writes into {@code grad}. */
    public GradCheck wrt(String name, Tensor x, Tensor grad) {
        if (x.numel() != grad.numel()) {
            throw new IllegalArgumentException(name + ": gradient " + grad.shape() + " does not match " + x.shape());
        }
        inputs.add(new Input(name, x, grad));
        return this;
    }

    /** Runs the check; fails if any input's relative error exceeds the tolerance. Returns the worst error. */
    public double check() {
        for (Input in : inputs) in.grad.device().ops().fill(in.grad, 0);
        problem.run(true);
        List<double[]> analytic = new ArrayList<>();
        for (Input in : inputs) analytic.add(in.grad.toDoubles());
        double worst = 0;
        for (int k = 0; k < inputs.size(); k++) {
            Input in = inputs.get(k);
            double[] numeric = numericGradient(in.x);
            double[] a = analytic.get(k);
            double diff = 0, norm = 0;
            for (int i = 0; i < a.length; i++) {
                diff += (a[i] - numeric[i]) * (a[i] - numeric[i]);
                norm += numeric[i] * numeric[i];
            }
            double err = Math.sqrt(diff) / Math.max(Math.sqrt(norm), TINY);
            assertTrue(norm > 0, in.name + ": the numeric gradient is all zero, so this check proves nothing");
            assertTrue(err <= TOLERANCE, in.name + ": gradient relative error " + err + " > " + TOLERANCE);
            worst = Math.max(worst, err);
        }
        synchronized (GradCheck.class) {
            worstSeen = Math.max(worstSeen, worst);
        }
        System.out.println("gradcheck worst relative error " + worst + " (worst so far " + worstSeen + ")");
        return worst;
    }

    private double[] numericGradient(Tensor x) {
        double[] values = x.toDoubles();
        double[] g = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            double keep = values[i];
            values[i] = keep + STEP;
            x.copyFrom(values);
            double up = problem.run(false);
            values[i] = keep - STEP;
            x.copyFrom(values);
            double down = problem.run(false);
            values[i] = keep;
            x.copyFrom(values);
            g[i] = (up - down) / (2 * STEP);
        }
        return g;
    }

    /** Σ w ⊙ t: a scalar loss whose gradient with respect to t is w. */
    public static double dot(Tensor t, double[] w) {
        double[] v = t.toDoubles();
        if (v.length != w.length) throw new IllegalArgumentException("dot: " + v.length + " values, " + w.length + " weights");
        double s = 0;
        for (int i = 0; i < v.length; i++) s += v[i] * w[i];
        return s;
    }

    /** The largest relative error any check in this JVM has seen. */
    public static synchronized double worstSeen() { return worstSeen; }
}
