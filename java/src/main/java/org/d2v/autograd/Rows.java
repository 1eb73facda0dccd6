package org.d2v.autograd;

import java.util.Arrays;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Row movement: embedding look-up, gathering kept tokens, scattering them back, clones. */
final class Rows {
    private Rows() {}

    private static void ints(Tensor t, String what) {
        if (t.dtype() != DType.I32) throw new IllegalArgumentException(what + " must be I32, got " + t.dtype());
    }

    static Tensor embedding(Tensor ids, Tensor table) {
        ints(ids, "embedding ids");
        int dim = table.dim(-1);
        Ops ops = table.device().ops();
        int[] dims = ids.shape().dims();
        int[] outDims = Arrays.copyOf(dims, dims.length + 1);
        outDims[dims.length] = dim;
        Tensor y = Tensor.empty(table.device(), table.dtype(), Shape.of(outDims));
        ops.embedding(ids.reshape((int) ids.numel()), table, y.reshape((int) ids.numel(), dim));
        if (Tape.needsGrad(table)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) ops.embeddingBackward(ids.reshape((int) ids.numel()), y.grad().reshape((int) ids.numel(), dim), table.gradOrZeros());
            });
        }
        return y;
    }

    /** dst[b, k, :] = src[b, idx[b, k], :]. */
    static Tensor gatherRows(Tensor src, Tensor idx) {
        ints(idx, "gatherRows idx");
        int batch = src.dim(0), dim = src.dim(-1), kept = idx.dim(-1);
        if (idx.numel() != (long) batch * kept) throw new IllegalArgumentException("gatherRows: idx " + idx.shape() + " for " + src.shape());
        Ops ops = src.device().ops();
        Tensor y = Tensor.empty(src.device(), src.dtype(), Shape.of(batch, kept, dim));
        ops.gatherRows(src, idx, y);
        if (Tape.needsGrad(src)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) ops.scatterRows(y.grad(), idx, src.gradOrZeros(), true);
            });
        }
        return y;
    }

    /**
     * A copy of base [batch, tokens, dim] with rows idx[b, k] replaced by src[b, k, :] (the
     * decoder input: kept tokens back in place, masked slots keep base's noise). Indices within
     * a sample must be distinct.
     */
    static Tensor scatterRows(Tensor src, Tensor idx, Tensor base) {
        ints(idx, "scatterRows idx");
        int batch = base.dim(0), dim = base.dim(-1), kept = idx.dim(-1);
        if (src.numel() != (long) batch * kept * dim) {
            throw new IllegalArgumentException("scatterRows: src " + src.shape() + " idx " + idx.shape() + " base " + base.shape());
        }
        Ops ops = base.device().ops();
        Tensor y = Elementwise.like(base);
        ops.copy(base, y);
        ops.scatterRows(src, idx, y, false);
        if (Tape.needsGrad(src, base)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (src.requiresGrad()) {
                    // gatherRows has no accumulate flag: gather into a temporary, then add.
                    Tensor g = Elementwise.like(src);
                    ops.gatherRows(dy, idx, g);
                    Elementwise.addInto(ops, 1, g, src);
                }
                if (base.requiresGrad()) {
                    // Overwritten rows never reach the output: their gradient is zero.
                    Tensor masked = Elementwise.like(dy);
                    ops.copy(dy, masked);
                    Tensor zeros = Tensor.zeros(src.device(), src.dtype(), batch, kept, dim);
                    ops.scatterRows(zeros, idx, masked, false);
                    Elementwise.addInto(ops, 1, masked, base);
                }
            });
        }
        return y;
    }

    /** out[b·copies + c, :] = x[b, :]; x viewed as [batch, rest]. */
    static Tensor repeatRows(Tensor x, int copies) {
        if (copies < 1) throw new IllegalArgumentException("repeatRows: copies must be ≥ 1");
        int[] dims = x.shape().dims();
        dims[0] *= copies;
        Ops ops = x.device().ops();
        Tensor y = Tensor.empty(x.device(), x.dtype(), Shape.of(dims));
        int batch = x.dim(0);
        int rest = (int) (x.numel() / batch);
        ops.repeatRows(x.reshape(batch, rest), copies, y.reshape(batch * copies, rest));
        if (Tape.needsGrad(x)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                if (y.grad() != null) {
                    boolean acc = x.grad() != null;
                    ops.sumRepeats(y.grad().reshape(batch * copies, rest), copies, x.gradOrEmpty().reshape(batch, rest), acc);
                }
            });
        }
        return y;
    }
}
