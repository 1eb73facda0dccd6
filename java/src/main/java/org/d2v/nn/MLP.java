package org.d2v.nn;

import org.d2v.tensor.Tensor;

/** fc2(drop(GELU(fc1(x)))), the GELU fused into fc1's GEMM (timm's Mlp without the outer drop). */
public final class MLP extends Module {
    private final Linear fc1;
    private final Linear fc2;
    private final double dropout;

    public MLP(ParameterStore.Builder b, int in, int hidden, int out, double dropout) {
        this.fc1 = child("fc1", new Linear(b.child("fc1"), in, hidden, true));
        this.fc2 = child("fc2", new Linear(b.child("fc2"), hidden, out, true));
        this.dropout = dropout;
    }

    public Tensor forward(Tensor x) { return fc2.forward(dropout(fc1.forwardGelu(x), dropout)); }

    public Linear fc1() { return fc1; }

    public Linear fc2() { return fc2; }
}
