package org.d2v.tensor;

import org.d2v.autograd.Tape;
import org.d2v.backend.Device;

/**
 * A contiguous, row-major window of {@link Shape} into a {@link DeviceBuffer}, starting at
 * {@link #offset()} elements. A tensor that allocated its buffer owns it and frees it on
 * {@link #close()}; a view ({@link #view}) never frees anything. Ops take tensors, so a
 * parameter can be a view into one flat buffer that a single kernel updates.
 *
 * <p>Autograd state lives here too: {@link #requiresGrad()}, the accumulated {@link #grad()},
 * and whether the tape recorded an op producing it.
 */
public final class Tensor implements AutoCloseable {
    private final DeviceBuffer buffer;
    private final long offset;
    private final Shape shape;
    private final boolean owner;

    private boolean requiresGrad;
    private Tensor grad;
    /** Whether {@link #grad} was allocated for this tensor (gradOrEmpty/gradOrZeros), not set from outside: only then may it be handed on. */
    private boolean gradOwned;
    private String name;

    private Tensor(DeviceBuffer buffer, long offset, Shape shape, boolean owner) {
        if (offset < 0 || offset + shape.numel() > buffer.length()) {
            throw new IllegalArgumentException("view " + shape + " at offset " + offset
                    + " does not fit in a buffer of " + buffer.length() + " elements");
        }
        this.buffer = buffer;
        this.offset = offset;
        this.shape = shape;
        this.owner = owner;
    }

    /** Allocates an uninitialised tensor on {@code device}, tracked by the current {@link Scope}. */
    public static Tensor empty(Device device, DType dtype, Shape shape) {
        Tensor t = new Tensor(device.allocate(dtype, Math.max(1, shape.numel())), 0, shape, true);
        Scope.track(t);
        return t;
    }

    public static Tensor empty(Device device, DType dtype, int... dims) { return empty(device, dtype, Shape.of(dims)); }

    public static Tensor zeros(Device device, DType dtype, int... dims) {
        Tensor t = empty(device, dtype, dims);
        device.ops().fill(t, 0.0);
        return t;
    }

    public static Tensor of(Device device, DType dtype, Shape shape, double[] values) {
        if (values.length != shape.numel()) {
            throw new IllegalArgumentException(values.length + " values for shape " + shape);
        }
        Tensor t = empty(device, dtype, shape);
        device.upload(t.buffer, t.offset, values);
        return t;
    }

    public static Tensor ofInts(Device device, Shape shape, int[] values) {
        if (values.length != shape.numel()) {
            throw new IllegalArgumentException(values.length + " values for shape " + shape);
        }
        Tensor t = empty(device, DType.I32, shape);
        device.uploadInts(t.buffer, t.offset, values);
        return t;
    }

    /** Wraps an existing buffer without taking ownership. */
    public static Tensor view(DeviceBuffer buffer, long offset, Shape shape) {
        return new Tensor(buffer, offset, shape, false);
    }

    /** A non-owning view of {@code shape} starting {@code elementOffset} elements into this tensor. */
    public Tensor view(long elementOffset, Shape shape) {
        if (elementOffset + shape.numel() > this.shape.numel()) {
            throw new IllegalArgumentException("view " + shape + "+" + elementOffset + " outside " + this.shape);
        }
        return new Tensor(buffer, offset + elementOffset, shape, false);
    }

    /**
     * Same elements, another shape (a view). The view is NOT connected to the tape: inside a model
     * use {@code F.reshape}, which carries gradients back to this tensor.
     */
    public Tensor reshape(int... dims) {
        Shape s = Shape.of(dims);
        if (s.numel() != shape.numel()) throw new IllegalArgumentException("cannot reshape " + shape + " to " + s);
        return new Tensor(buffer, offset, s, false);
    }

    public DeviceBuffer buffer() { return buffer; }

    public long offset() { return offset; }

    public Shape shape() { return shape; }

    public int dim(int i) { return shape.dim(i); }

    public long numel() { return shape.numel(); }

    public DType dtype() { return buffer.dtype(); }

    public Device device() { return buffer.device(); }

    public double[] toDoubles() {
        double[] out = new double[(int) numel()];
        device().download(buffer, offset, out);
        return out;
    }

    public int[] toInts() {
        int[] out = new int[(int) numel()];
        device().downloadInts(buffer, offset, out);
        return out;
    }

    public void copyFrom(double[] values) {
        if (values.length != numel()) throw new IllegalArgumentException(values.length + " values for " + shape);
        device().upload(buffer, offset, values);
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item() of a tensor of shape " + shape);
        return toDoubles()[0];
    }

    // ---- autograd -------------------------------------------------------------------------

    public boolean requiresGrad() { return requiresGrad; }

    public Tensor setRequiresGrad(boolean value) {
        this.requiresGrad = value;
        return this;
    }

    /** The accumulated gradient, or null before any backward pass reached this tensor. */
    public Tensor grad() { return grad; }

    /**
     * Sets where gradients accumulate: for parameters, a view into the flat gradient buffer.
     * Backward passes only ever add ({@code +=}) into it.
     */
    public void setGrad(Tensor grad) {
        if (grad != null && !grad.shape.equals(shape)) {
            throw new IllegalArgumentException("grad shape " + grad.shape + " != " + shape);
        }
        this.grad = grad;
        this.gradOwned = false;
    }

    /**
     * The gradient for an op that writes every element of it: a fresh, unfilled one in the current
     * scope if there is none yet, else the existing one. The op must overwrite (not accumulate)
     * exactly when {@link #grad()} was null before this call: that saves the zero fill of every
     * fresh gradient (a launch each, ~60 per image step).
     */
    public Tensor gradOrEmpty() {
        if (grad == null) {
            grad = empty(device(), dtype(), shape);
            gradOwned = true;
        }
        return grad;
    }

    /**
     * Hands this tensor's gradient to {@code x} as x's first gradient, without a copy: for an op
     * whose backward passes its output gradient through unchanged (the sum of a residual
     * connection). Done only when this tensor allocated its gradient itself (a gradient set from
     * outside, a parameter's or a reshaped view's, belongs to someone else), x has none yet and
     * the two agree in dtype and size; it then stops owning it, so it is handed on at most once.
     * This tensor's gradient reads whatever x accumulates from then on: call it from the backward
     * of the op that produced this tensor, after which nothing reads that gradient. Returns
     * whether it was handed over (else the caller copies).
     */
    public boolean passGradTo(Tensor x) {
        if (!gradOwned || grad == null || x == this || x.grad != null || x.dtype() != dtype() || x.numel() != numel()) return false;
        x.grad = grad.shape.equals(x.shape) ? grad : grad.reshape(x.shape.dims());
        x.gradOwned = true;
        gradOwned = false;
        return true;
    }

    /** The gradient, allocated as zeros in the current scope if there is none yet. */
    public Tensor gradOrZeros() {
        if (grad == null) {
            grad = zeros(device(), dtype(), shape.dims());
            gradOwned = true;
        }
        return grad;
    }

    /** True if the active tape must record ops that read this tensor. */
    public boolean tracked() { return requiresGrad && Tape.active() != null; }

    public String name() { return name; }

    public Tensor named(String name) {
        this.name = name;
        return this;
    }

    public boolean isOwner() { return owner; }

    @Override
    public void close() {
        if (owner && !buffer.isClosed()) buffer.close();
    }

    @Override
    public String toString() {
        return "Tensor" + (name != null ? "(" + name + ")" : "") + shape + " " + dtype() + " on " + device().name();
    }
}
