package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** y = x·Wᵀ + b with W [out, in] (PyTorch layout); BERT init by default (docs/algorithm.md §2). */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;

    /** BERT init: W ~ N(0, 0.02²), b = 0. */
    public Linear(ParameterStore.Builder b, int in, int out, boolean bias) {
        this(b, in, out, bias, Init.normal(0.02), Init.zeros());
    }

    public Linear(ParameterStore.Builder b, int in, int out, boolean bias, Init weightInit, Init biasInit) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("Linear " + b.prefix() + ": bad sizes " + in + "->" + out);
        this.in = in;
        this.out = out;
        this.weight = b.declare("weight", Shape.of(out, in), weightInit);
        this.bias = bias ? b.declare("bias", Shape.of(out), biasInit) : null;
    }

    /** PyTorch's default init (U(±1/√in) for both), which some data2vec layers reset to. */
    public static Linear pytorchDefault(ParameterStore.Builder b, int in, int out, boolean bias) {
        return new Linear(b, in, out, bias, Init.pytorchDefault(in), Init.pytorchDefault(in));
    }

    /** x·Wᵀ + b with W as the compute reads it (a bf16 working copy in a bf16 model) and the fp32 bias. */
    public Tensor forward(Tensor x) { return F.linear(x, weight.compute(), bias == null ? null : bias.tensor()); }

    /** GELU(x·Wᵀ + b), fused into the GEMM. */
    public Tensor forwardGelu(Tensor x) { return F.linearGelu(x, weight.compute(), bias == null ? null : bias.tensor()); }

    public Parameter weight() { return weight; }

    /** The bias, or null. */
    public Parameter bias() { return bias; }

    public int in() { return in; }

    public int out() { return out; }
}
