package org.d2v.nn;

import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * One declared parameter: its full name, shape, initialiser and optimiser flags. After the
 * {@link ParameterStore} is built, {@link #tensor()} is a view into the flat parameter buffer (the
 * master weights) whose grad is the matching view into the flat gradient buffer, and
 * {@link #compute()} the view a GEMM, convolution or embedding reads: the master itself, or in a
 * store with a working copy (bf16, docs/precision.md) the matching view of that copy, whose
 * gradient is the master's (fp32) gradient.
 */
public final class Parameter {
    private final String name;
    private final Shape shape;
    private final Init init;
    private final boolean decay;
    private final boolean tracked;
    private long offset = -1;
    private Tensor tensor;
    private Tensor working;

    Parameter(String name, Shape shape, Init init, boolean decay, boolean tracked) {
        this.name = name;
        this.shape = shape;
        this.init = init;
        this.decay = decay;
        this.tracked = tracked;
    }

    public String name() { return name; }

    public Shape shape() { return shape; }

    public long numel() { return shape.numel(); }

    Init init() { return init; }

    /** Weight decay applies to this parameter. */
    public boolean decay() { return decay; }

    /** The EMA teacher tracks this parameter. */
    public boolean tracked() { return tracked; }

    /** Element offset in the flat buffers (−1 before build). */
    public long offset() { return offset; }

    /** The parameter tensor (a view into the flat buffer); only after the store is built. */
    public Tensor tensor() {
        if (tensor == null) throw new IllegalStateException("parameter " + name + " used before its ParameterStore was built");
        return tensor;
    }

    /**
     * The weights as the compute reads them: {@link #tensor()}, or its working copy (same values
     * rounded to the store's working dtype), which follows the master's requiresGrad and whose
     * gradient accumulates into the master's gradient.
     */
    public Tensor compute() {
        Tensor master = tensor();
        if (working == null) return master;
        working.setRequiresGrad(master.requiresGrad());
        working.setGrad(master.grad());
        return working;
    }

    void bind(long offset, Tensor tensor) { bind(offset, tensor, null); }

    void bind(long offset, Tensor tensor, Tensor working) {
        this.offset = offset;
        this.tensor = tensor;
        this.working = working;
    }

    @Override public String toString() { return name + shape + (decay ? " decay" : "") + (tracked ? " tracked" : ""); }
}
