package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** LayerNorm over the last dimension; affine parameters start at weight 1, bias 0 and never decay. */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final double eps;

    public LayerNorm(ParameterStore.Builder b, int dim, double eps, boolean affine) {
        this.eps = eps;
        this.weight = affine ? b.declare("weight", Shape.of(dim), Init.ones(), false) : null;
        this.bias = affine ? b.declare("bias", Shape.of(dim), Init.zeros(), false) : null;
    }

    public Tensor forward(Tensor x) {
        return F.layerNorm(x, weight == null ? null : weight.tensor(), bias == null ? null : bias.tensor(), eps);
    }

    public double eps() { return eps; }
}
