package org.d2v.autograd;

import org.d2v.backend.Ops;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Elementwise functions, broadcasts, reductions and dropout. */
final class Elementwise {
    private Elementwise() {}

    static Tensor like(Tensor x) { return Tensor.empty(x.device(), x.dtype(), x.shape()); }

    static void sameSize(Tensor a, Tensor b, String op) {
        if (a.numel() != b.numel()) throw new IllegalArgumentException(op + ": " + a.shape() + " vs " + b.shape());
    }

    static Tensor cast(Tensor x, DType dtype) {
        if (x.dtype() == dtype) return x;
        Ops ops = x.device().ops();
        Tensor y = Tensor.empty(x.device(), dtype, x.shape());
        ops.cast(x, y, false);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.cast(y.grad(), x.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }

    static Tensor add(Tensor a, Tensor b) {
        sameSize(a, b, "add");
        Ops ops = a.device().ops();
        Tensor y = like(a);
        ops.add(a, b, y);
        if (Tape.needsGrad(a, b)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (a.requiresGrad()) passOrAdd(ops, y, a);
                if (b.requiresGrad()) passOrAdd(ops, y, b);
            });
        }
        return y;
    }

    static Tensor mul(Tensor a, Tensor b) {
        sameSize(a, b, "mul");
        Ops ops = a.device().ops();
        Tensor y = like(a);
        ops.mul(a, b, y, false);
        if (Tape.needsGrad(a, b)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (a.requiresGrad()) {
                    boolean acc = a.grad() != null;
                    ops.mul(dy, b, a.gradOrEmpty(), acc);
                }
                if (b.requiresGrad()) {
                    boolean acc = b.grad() != null;
                    ops.mul(dy, a, b.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }

    static Tensor scale(Tensor x, double alpha) {
        Ops ops = x.device().ops();
        Tensor y = like(x);
        ops.axpby(alpha, x, 0, y);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) addInto(ops, alpha, y.grad(), x);
            });
        }
        return y;
    }

    /** out[i, j] = x[i, j] + v[j] with x viewed as [outer, v.numel()]. */
    static Tensor addBroadcast(Tensor x, Tensor v) {
        if (x.numel() % v.numel() != 0) throw new IllegalArgumentException("addBroadcast: " + x.shape() + " + " + v.shape());
        Ops ops = x.device().ops();
        Tensor y = like(x);
        ops.addBroadcast(x, v, y);
        if (Tape.needsGrad(x, v)) {
            y.setRequiresGrad(true);
            int outer = (int) (x.numel() / v.numel());
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (x.requiresGrad()) passOrAdd(ops, y, x);
                if (v.requiresGrad()) {
                    boolean acc = v.grad() != null;
                    ops.reduceMiddle(1, outer, (int) v.numel(), 1.0, dy, v.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }

    /** out[i, k] = alpha·Σ_j x[i, j, k] for x viewed as [a, b, c]; out has shape [a, c]. */
    static Tensor reduceMiddle(Tensor x, int a, int b, int c, double alpha) {
        if ((long) a * b * c != x.numel()) throw new IllegalArgumentException("reduceMiddle: " + x.shape() + " is not " + a + "x" + b + "x" + c);
        Ops ops = x.device().ops();
        Tensor y = Tensor.empty(x.device(), x.dtype().compute(), Shape.of(a, c));
        ops.reduceMiddle(a, b, c, alpha, x, y, false);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.broadcastMiddle(a, b, c, alpha, y.grad(), x.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }

    static Tensor sum(Tensor x) {
        Ops ops = x.device().ops();
        Tensor y = Tensor.empty(x.device(), x.dtype().compute(), Shape.of(1));
        ops.sum(x, y);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.broadcastMiddle(1, (int) x.numel(), 1, 1.0, y.grad(), x.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }

    static Tensor gelu(Tensor x) {
        Ops ops = x.device().ops();
        Tensor y = like(x);
        ops.gelu(x, y);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.geluBackward(x, y.grad(), x.gradOrEmpty(), acc);
                }
            });
        }
        return y;
    }

    static Tensor dropout(Tensor x, double p, RandomStream rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        if (p == 0) return x;
        Ops ops = x.device().ops();
        long seed = rng.seed(), offset = rng.takeUniform(x.numel());
        Tensor y = like(x);
        ops.dropout(x, y, p, seed, offset);
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.dropoutBackward(y.grad(), x.gradOrEmpty(), p, seed, offset, acc);
                }
            });
        }
        return y;
    }

    /**
     * x.grad (+)= y.grad from the backward of y's op: y's gradient itself becomes x's first one
     * where it can ({@link Tensor#passGradTo}: one launch fewer per residual connection), else added.
     */
    static void passOrAdd(Ops ops, Tensor y, Tensor x) {
        if (!y.passGradTo(x)) addInto(ops, 1, y.grad(), x);
    }

    /** x.grad (+)= alpha·g: into a fresh gradient with beta 0 (axpby then never reads it), else accumulated. */
    static void addInto(Ops ops, double alpha, Tensor g, Tensor x) {
        boolean acc = x.grad() != null;
        ops.axpby(alpha, g, acc ? 1 : 0, x.gradOrEmpty());
    }
}
