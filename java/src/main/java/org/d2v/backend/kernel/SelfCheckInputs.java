package org.d2v.backend.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.tensor.Bf16;
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

    /** The dtype of {@link #act} tensors (F32 in the fp32 checks). */
    private final DType act;
    /** Whether every random value is rounded to bf16 (the bf16 checks: the same numbers in BF16 and F32 storage). */
    private final boolean bf16Values;

    SelfCheckInputs(Device device, long seed) { this(device, seed, DType.F32, false); }

    private SelfCheckInputs(Device device, long seed, DType act, boolean bf16Values) {
        this.device = device;
        this.rnd = new Random(seed);
        this.act = act;
        this.bf16Values = bf16Values;
    }

    /**
     * Inputs of a bf16 check: activations ({@link #act} and friends) stored as {@code act} (BF16
     * for the variant and its twin, F32 for the fp32 twin), every random value bf16-valued.
     */
    static SelfCheckInputs bf16(Device device, long seed, DType act) { return new SelfCheckInputs(device, seed, act, true); }

    Device device() { return device; }

    /** The activations' dtype of this check. */
    DType actDtype() { return act; }

    /** A tensor of {@code dims} holding {@code values}, {@code offset} elements into its buffer (0: aligned). */
    private Tensor put(double[] values, int offset, int... dims) { return put(DType.F32, values, offset, dims); }

    private Tensor put(DType dtype, double[] values, int offset, int... dims) {
        DeviceBuffer b = device.allocate(dtype, offset + Math.max(1, values.length));
        buffers.add(b);
        double[] all = new double[offset + values.length];
        Arrays.fill(all, 0, offset, Double.NaN);
        System.arraycopy(values, 0, all, offset, values.length);
        device.upload(b, 0, all);
        return Tensor.view(b, offset, Shape.of(dims));
    }

    private double value(double v) { return bf16Values ? Bf16.round(v) : v; }

    /** An activation of N(0, 1) values, stored in the check's activation dtype. */
    Tensor act(int... dims) { return actAt(0, dims); }

    Tensor actAt(int offset, int... dims) {
        double[] v = new double[numel(dims)];
        for (int i = 0; i < v.length; i++) v[i] = value(rnd.nextGaussian());
        return put(act, v, offset, dims);
    }

    /** An activation output nobody has written: NaN everywhere. */
    Tensor actNan(int... dims) { return actNanAt(0, dims); }

    Tensor actNanAt(int offset, int... dims) {
        double[] v = new double[numel(dims)];
        Arrays.fill(v, Double.NaN);
        return put(act, v, offset, dims);
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
        for (int i = 0; i < v.length; i++) v[i] = value(rnd.nextGaussian());
        return put(v, offset, dims);
    }

    /** Uniform values in [lo, hi). */
    Tensor uniform(double lo, double hi, int... dims) {
        double[] v = new double[numel(dims)];
        for (int i = 0; i < v.length; i++) v[i] = value(lo + (hi - lo) * rnd.nextDouble());
        return put(v, 0, dims);
    }

    /** An output nobody has written: NaN everywhere. */
    Tensor nan(int... dims) { return nanAt(0, dims); }

    Tensor nanAt(int offset, int... dims) {
        double[] v = new double[numel(dims)];
        Arrays.fill(v, Double.NaN);
        return put(v, offset, dims);
    }

    /** A bf16 output nobody has written (a working copy in an fp32 check): NaN everywhere. */
    Tensor nanBf16(int... dims) { return nanBf16At(0, dims); }

    Tensor nanBf16At(int offset, int... dims) {
        double[] v = new double[numel(dims)];
        Arrays.fill(v, Double.NaN);
        return put(DType.BF16, v, offset, dims);
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
        return ints(v, dims);
    }

    /** I32 tensor of the given values (positions). */
    Tensor ints(int[] v, int... dims) {
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
