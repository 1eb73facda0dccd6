package org.d2v.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.testing.GradCheck;
import org.d2v.testing.Rand;

/**
 * Gradient checks through the tape: a forward function built from {@link F} (or modules) is
 * reduced to the scalar Σ_i Σ w_i ⊙ out_i with fixed random w_i, the tape's backward fills the
 * leaves' gradients, and {@link GradCheck} compares them with central differences (float64).
 */
public final class TapeCheck {
    private final Device device;
    private final Rand rand;
    private final List<String> names = new ArrayList<>();
    private final List<Tensor> leaves = new ArrayList<>();

    public TapeCheck(Device device, Rand rand) {
        this.device = device;
        this.rand = rand;
    }

    /** A random float64 leaf in [−1, 1) whose gradient the check verifies. */
    public Tensor leaf(String name, int... dims) {
        return wrt(name, rand.tensor(device, DType.F64, dims));
    }

    /** Registers an existing tensor as a leaf; gives it a gradient tensor if it has none. */
    public Tensor wrt(String name, Tensor x) {
        x.setRequiresGrad(true);
        if (x.grad() == null) x.setGrad(Tensor.zeros(device, x.dtype(), x.shape().dims()));
        names.add(name);
        leaves.add(x);
        return x;
    }

    /** Runs the check over every registered leaf; returns the worst relative error. */
    public double check(Supplier<Tensor[]> forward) {
        List<Integer> sizes = new ArrayList<>();
        try (Scope probe = Scope.open()) {
            for (Tensor t : forward.get()) sizes.add((int) t.numel());
        }
        List<Tensor> weights = new ArrayList<>();
        for (int n : sizes) weights.add(Tensor.of(device, DType.F64, Shape.of(n), rand.uniform(n, -1, 1)));
        GradCheck g = GradCheck.of(gradients -> {
            try (Scope s = Scope.open(); Tape tape = gradients ? Tape.record() : null) {
                Tensor[] outs = forward.get();
                Tensor loss = null;
                for (int i = 0; i < outs.length; i++) {
                    Tensor term = F.sum(F.mul(F.reshape(outs[i], (int) outs[i].numel()), weights.get(i)));
                    loss = loss == null ? term : F.add(loss, term);
                }
                if (gradients) tape.backward(loss);
                return loss.item();
            }
        });
        for (int i = 0; i < leaves.size(); i++) g.wrt(names.get(i), leaves.get(i), leaves.get(i).grad());
        return g.check();
    }
}
