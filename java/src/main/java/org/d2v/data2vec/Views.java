package org.d2v.data2vec;

import org.d2v.autograd.Tape;
import org.d2v.tensor.Tensor;

/**
 * Differentiable reshapes. {@link Tensor#reshape} makes a plain view that autograd does not see;
 * here the view's gradient is a view of the source's gradient, so whatever flows into the
 * reshaped tensor lands in the source's gradient without a copy.
 */
final class Views {
    private Views() {}

    static Tensor reshape(Tensor x, int... dims) {
        Tensor y = x.reshape(dims);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            y.setGrad(x.gradOrZeros().reshape(dims));
        }
        return y;
    }
}
