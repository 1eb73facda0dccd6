package org.d2v.autograd;

import org.d2v.backend.MatmulDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Linear layers and batched matrix products. */
final class Dense {
    private Dense() {}

    static Tensor linear(Tensor input, Tensor w, Tensor b, boolean gelu) {
        Tensor x = Elementwise.cast(input, w.dtype()); // the GEMM runs in the weight's storage
        int out = w.dim(0), in = w.dim(1);
        if (x.dim(-1) != in) throw new IllegalArgumentException("linear: x " + x.shape() + " vs W " + w.shape());
        if (b != null && b.numel() != out) throw new IllegalArgumentException("linear: bias " + b.shape() + " vs W " + w.shape());
        int rows = (int) (x.numel() / in);
        Ops ops = x.device().ops();
        int[] dims = x.shape().dims();
        dims[dims.length - 1] = out;
        Shape shape = Shape.of(dims);
        Tensor y = Tensor.empty(x.device(), x.dtype(), shape);
        boolean grad = Tape.needsGrad(x, w, b);
        // The GELU epilogue keeps the pre-activation only when backward will need it.
        Tensor pre = gelu && grad ? Tensor.empty(x.device(), x.dtype(), shape) : null;
        MatmulDesc d = MatmulDesc.of(rows, out, in).withTransB(true)
                .withActivation(gelu ? MatmulDesc.Activation.GELU : MatmulDesc.Activation.NONE);
        ops.matmul(d, x, w, b, y, pre, false);
        if (grad) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (pre != null) {
                    Tensor dpre = Tensor.empty(x.device(), x.dtype(), shape);
                    ops.geluBackward(pre, dy, dpre, false);
                    dy = dpre;
                }
                if (x.requiresGrad()) {
                    boolean acc = x.grad() != null;
                    ops.matmul(MatmulDesc.of(rows, in, out), dy, w, null, x.gradOrEmpty(), null, acc);
                }
                if (w.requiresGrad()) {
                    ops.matmul(MatmulDesc.of(out, in, rows).withTransA(true), dy, x, null, w.gradOrZeros(), null, true);
                }
                if (b != null && b.requiresGrad()) ops.reduceMiddle(1, rows, out, 1.0, dy, b.gradOrZeros(), true);
            });
        }
        return y;
    }

    /**
     * C = op(A)·op(B) per batch (see {@link MatmulDesc}; activation must be NONE). The result has
     * shape [batch, m, n] (or [m, n] when batch is 1).
     */
    static Tensor matmul(MatmulDesc d, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) throw new IllegalArgumentException("F.matmul: A is " + a.dtype() + ", B is " + b.dtype() + " (cast one with F.cast)");
        if (d.activation() != MatmulDesc.Activation.NONE) {
            throw new IllegalArgumentException("F.matmul: use F.linearGelu for a GELU epilogue");
        }
        Ops ops = a.device().ops();
        Tensor c = Tensor.empty(a.device(), a.dtype(), d.batch() == 1 ? Shape.of(d.m(), d.n()) : Shape.of(d.batch(), d.m(), d.n()));
        ops.matmul(d, a, b, null, c, null, false);
        if (Tape.needsGrad(a, b)) {
            c.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dc = c.grad();
                if (dc == null) return;
                if (a.requiresGrad()) matmulGradA(ops, d, b, dc, a.gradOrZeros());
                if (b.requiresGrad()) matmulGradB(ops, d, a, dc, b.gradOrZeros());
            });
        }
        return c;
    }

    /** dA (+)= dC·op(B)ᵀ, stored as A is (transposed back when transA). */
    private static void matmulGradA(Ops ops, MatmulDesc d, Tensor b, Tensor dc, Tensor da) {
        MatmulDesc g = d.transA()
                // A stored [k, m]: dA = op(B)·dCᵀ, [k×n]·[n×m]
                ? new MatmulDesc(d.batch(), d.k(), d.m(), d.n(), d.transB(), true, false, MatmulDesc.Activation.NONE)
                // A stored [m, k]: dA = dC·op(B)ᵀ, [m×n]·[n×k]
                : new MatmulDesc(d.batch(), d.m(), d.k(), d.n(), false, !d.transB(), d.broadcastB(), MatmulDesc.Activation.NONE);
        if (d.transA() && d.broadcastB()) {
            // B is shared, so it becomes the broadcast left operand: do it per batch.
            MatmulDesc one = g.withBatch(1, false);
            long aSize = (long) d.m() * d.k(), cSize = (long) d.m() * d.n();
            for (int p = 0; p < d.batch(); p++) {
                ops.matmul(one, b, dc.view(p * cSize, Shape.of(d.m(), d.n())), null,
                        da.view(p * aSize, Shape.of(d.k(), d.m())), null, true);
            }
        } else {
            ops.matmul(g, d.transA() ? b : dc, d.transA() ? dc : b, null, da, null, true);
        }
    }

    /** dB (+)= op(A)ᵀ·dC, stored as B is; a broadcast B sums over the batch. */
    private static void matmulGradB(Ops ops, MatmulDesc d, Tensor a, Tensor dc, Tensor db) {
        int batches = d.broadcastB() ? d.batch() : 1;
        int perCall = d.broadcastB() ? 1 : d.batch();
        long aSize = (long) d.m() * d.k() * perCall, cSize = (long) d.m() * d.n() * perCall;
        MatmulDesc g = d.transB()
                // B stored [n, k]: dB = dCᵀ·op(A), [n×m]·[m×k]
                ? new MatmulDesc(perCall, d.n(), d.k(), d.m(), true, d.transA(), false, MatmulDesc.Activation.NONE)
                // B stored [k, n]: dB = op(A)ᵀ·dC, [k×m]·[m×n]
                : new MatmulDesc(perCall, d.k(), d.n(), d.m(), !d.transA(), false, false, MatmulDesc.Activation.NONE);
        for (int p = 0; p < batches; p++) {
            Tensor ap = a.view(p * aSize, Shape.of((int) aSize));
            Tensor cp = dc.view(p * cSize, Shape.of((int) cSize));
            ops.matmul(g, d.transB() ? cp : ap, d.transB() ? ap : cp, null, db, null, true);
        }
    }
}
