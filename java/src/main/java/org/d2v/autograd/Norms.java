package org.d2v.autograd;

import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** LayerNorm and instance norm. */
final class Norms {
    private Norms() {}

    static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        int dim = x.dim(-1);
        int rows = (int) (x.numel() / dim);
        if (gamma != null && gamma.numel() != dim) throw new IllegalArgumentException("layerNorm: gamma " + gamma.shape() + " for " + x.shape());
        if (beta != null && beta.numel() != dim) throw new IllegalArgumentException("layerNorm: beta " + beta.shape() + " for " + x.shape());
        NormDesc d = new NormDesc(rows, dim, eps);
        Ops ops = x.device().ops();
        Tensor y = Elementwise.like(x);
        DType stat = x.dtype().compute(); // fp32 statistics for bf16 activations
        Tensor mean = Tensor.empty(x.device(), stat, Shape.of(rows));
        Tensor rstd = Tensor.empty(x.device(), stat, Shape.of(rows));
        ops.layerNorm(d, x, gamma, beta, y, mean, rstd);
        if (Tape.needsGrad(x, gamma, beta)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                boolean dxNeeded = x.requiresGrad();
                boolean accumulate = dxNeeded && x.grad() != null; // a fresh gradient is overwritten, not zeroed first
                Tensor dx = dxNeeded ? x.gradOrEmpty() : Elementwise.like(x);
                Tensor dg = gamma != null && gamma.requiresGrad() ? gamma.gradOrZeros() : null;
                Tensor db = beta != null && beta.requiresGrad() ? beta.gradOrZeros() : null;
                ops.layerNormBackward(d, x, gamma, mean, rstd, dy, dx, dg, db, accumulate);
            });
        }
        return y;
    }

    /** Instance norm over time of x [batch, time, channels] (no affine). */
    static Tensor instanceNorm(Tensor x, double eps) {
        if (x.shape().rank() != 3) throw new IllegalArgumentException("instanceNorm wants [batch, time, channels], got " + x.shape());
        int b = x.dim(0), t = x.dim(1), c = x.dim(2);
        Ops ops = x.device().ops();
        Tensor y = Elementwise.like(x);
        Tensor mean = Tensor.empty(x.device(), x.dtype().compute(), Shape.of(b, c));
        Tensor rstd = Tensor.empty(x.device(), x.dtype().compute(), Shape.of(b, c));
        ops.instanceNorm(b, t, c, eps, x, y, mean, rstd);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.instanceNormBackward(b, t, c, x, mean, rstd, y.grad(), x.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }
}
