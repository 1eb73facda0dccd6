package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * LayerNorm over the last dimension; affine parameters start at weight 1, bias 0. Being 1-D, they
 * get no weight decay under the default policy (a decay-everything policy, as audio uses, decays them).
 */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final double eps;

    public LayerNorm(ParameterStore.Builder b, int dim, double eps, boolean affine) {
        this.eps = eps;
        this.weight = affine ? b.declare("weight", Shape.of(dim), Init.ones()) : null;
        this.bias = affine ? b.declare("bias", Shape.of(dim), Init.zeros()) : null;
    }

    public Tensor forward(Tensor x) {
        return F.layerNorm(x, weight == null ? null : weight.tensor(), bias == null ? null : bias.tensor(), eps);
    }

    public double eps() { return eps; }
}
