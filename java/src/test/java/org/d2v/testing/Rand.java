package org.d2v.testing;

import java.util.SplittableRandom;
import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Seeded random test data: the same seed gives the same tensors on every run and every backend. */
public final class Rand {
    private final SplittableRandom random;

    public Rand(long seed) { this.random = new SplittableRandom(seed); }

    /** n values uniform in [lo, hi). */
    public double[] uniform(int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * random.nextDouble();
        return v;
    }

    /** n standard normal values (Box–Muller on the seeded generator). */
    public double[] normal(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double u1 = 1 - random.nextDouble(), u2 = random.nextDouble();
            v[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        }
        return v;
    }

    /** n integers uniform in [0, bound). */
    public int[] ints(int n, int bound) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = random.nextInt(bound);
        return v;
    }

    public int nextInt(int bound) { return random.nextInt(bound); }

    /** A tensor of {@code dims}: floats uniform in [−1, 1), or for I32 integers in [0, 10). */
    public Tensor tensor(Device device, DType dtype, int... dims) {
        Shape shape = Shape.of(dims);
        int n = (int) shape.numel();
        if (dtype == DType.I32) return Tensor.ofInts(device, shape, ints(n, 10));
        return Tensor.of(device, dtype, shape, uniform(n, -1, 1));
    }

    /** An I32 tensor of {@code dims} with integers uniform in [0, bound). */
    public Tensor ints(Device device, int bound, int... dims) {
        Shape shape = Shape.of(dims);
        return Tensor.ofInts(device, shape, ints((int) shape.numel(), bound));
    }

    /** A float tensor filled with NaN, so that any element an op forgets to write is caught. */
    public static Tensor poisoned(Device device, DType dtype, int... dims) {
        Tensor t = Tensor.empty(device, dtype, dims);
        device.ops().fill(t, Double.NaN);
        return t;
    }
}
