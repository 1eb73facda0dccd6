package org.d2v.backend.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The tensors of one self-check case: random values from a fixed seed (so the variant's and the
 * twin's copies hold the same numbers, and a failure repeats), outputs poisoned with NaN (an element
 * a kernel fails to write shows), views that start off a 16-byte boundary where asked. The buffers
 * are allocated on the device directly, not in the caller's Scope (a self-check runs inside
 * whatever op first needed the variant), and closed by {@link #close()}.
 */
final class SelfCheckInputs implements AutoCloseable {
    private final Device device;
    private final Random rnd;
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    SelfCheckInputs(Device device, long seed) {
        this.device = device;
        this.rnd = new Random(seed);
    }

    /** A tensor of {@code dims} holding {@code values}, {@code offset} elements into its buffer (0: aligned). */
    private Tensor put(double[] values, int offset, int... dims) {
        DeviceBuffer b = device.allocate(DType.F32, offset + Math.max(1, values.length));
        buffers.add(b);
        double[] all = new double[offset + values.length];
        Arrays.fill(all, 0, offset, Double.NaN);
        System.arraycopy(values, 0, all, offset, values.length);
        device.upload(b, 0, all);
        return Tensor.view(b, offset, Shape.of(dims));
    }

    private static int numel(int... dims) {
        long n = 1;
        for (int d : dims) n *= d;
        return Math.toIntExact(n);
    }

    /** N(0, 1) values. */
    Tensor randn(int... dims) { return randnAt(0, dims); }

    /** N(0, 1) values in a view {@code offset} elements into its buffer (off the vector alignment when offset % 4 != 0). */
    Tensor randnAt(int offset, int... dims) {
        double[] v = new double[numel(dims)];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextGaussian();
        return put(v, offset, dims);
    }

    /** Uniform values in [lo, hi). */
    Tensor uniform(double lo, double hi, int... dims) {
        double[] v = new double[numel(dims)];
        for (int i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * rnd.nextDouble();
        return put(v, 0, dims);
    }

    /** An output nobody has written: NaN everywhere. */
    Tensor nan(int... dims) { return nanAt(0, dims); }

    Tensor nanAt(int offset, int... dims) {
        double[] v = new double[numel(dims)];
        Arrays.fill(v, Double.NaN);
        return put(v, offset, dims);
    }

    /** I32 values, 1 with probability p, else 0 (masks). */
    Tensor mask(double p, int... dims) {
        int[] v = new int[numel(dims)];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextDouble() < p ? 1 : 0;
        DeviceBuffer b = device.allocate(DType.I32, Math.max(1, v.length));
        buffers.add(b);
        device.uploadInts(b, 0, v);
        return Tensor.view(b, 0, Shape.of(dims));
    }

    /** I32 values uniform in [0, bound) (token positions). */
    Tensor ints(int bound, int... dims) {
        int[] v = new int[numel(dims)];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextInt(bound);
        DeviceBuffer b = device.allocate(DType.I32, Math.max(1, v.length));
        buffers.add(b);
        device.uploadInts(b, 0, v);
        return Tensor.view(b, 0, Shape.of(dims));
    }

    @Override
    public void close() {
        for (DeviceBuffer b : buffers) b.close();
        buffers.clear();
    }
}
