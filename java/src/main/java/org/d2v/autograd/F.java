package org.d2v.autograd;

import org.d2v.backend.Device;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Differentiable functions: each allocates its output in the current scope, runs the forward op
 * and, when an input requires gradients, records the backward closure on the active {@link Tape}.
 */
public final class F {
    private F() {}

    /** y = x·Wᵀ + b for x [..., in], W [out, in] (PyTorch layout), b [out] or null. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        int out = w.dim(0), in = w.dim(1);
        if (x.dim(-1) != in) throw new IllegalArgumentException("linear: x " + x.shape() + " vs W " + w.shape());
        int rows = (int) (x.numel() / in);
        Device dev = x.device();
        Ops ops = dev.ops();
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = out;
        Tensor y = Tensor.empty(dev, x.dtype(), Shape.of(dims));
        ops.matmul(MatmulDesc.of(rows, out, in).withTransB(true), x, w, b, y, null, false);
        if (Tape.needsGrad(x, w, b)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (x.requiresGrad()) ops.matmul(MatmulDesc.of(rows, in, out), dy, w, null, x.gradOrZeros(), null, true);
                if (w.requiresGrad()) {
                    ops.matmul(MatmulDesc.of(out, in, rows).withTransA(true), dy, x, null, w.gradOrZeros(), null, true);
                }
                if (b != null && b.requiresGrad()) ops.reduceMiddle(1, rows, out, 1.0, dy, b.gradOrZeros(), true);
            });
        }
        return y;
    }
}
