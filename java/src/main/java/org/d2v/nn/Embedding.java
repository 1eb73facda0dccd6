package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** A [vocab, dim] look-up table; BERT init N(0, 0.02²) with the padding row zeroed (docs/algorithm.md §2). */
public final class Embedding extends Module {
    private final Parameter table;

    /** @param paddingIdx the row that starts at zero, or −1 for none */
    public Embedding(ParameterStore.Builder b, int vocab, int dim, int paddingIdx) {
        if (paddingIdx >= vocab) throw new IllegalArgumentException("Embedding " + b.prefix() + ": padding index " + paddingIdx + " ≥ vocab " + vocab);
        Init normal = Init.normal(0.02);
        Init init = paddingIdx < 0 ? normal : (t, ops, rng) -> {
            normal.apply(t, ops, rng);
            ops.fill(t.view((long) paddingIdx * dim, Shape.of(dim)), 0);
        };
        this.table = b.declare("weight", Shape.of(vocab, dim), init);
    }

    /** ids (I32, any shape) → [..., dim], stored as the compute reads the table (its bf16 working copy in a bf16 model). */
    public Tensor forward(Tensor ids) { return F.embedding(ids, table.compute()); }

    /** ids → [..., dim] from the master table (fp32): rows added as a broadcast table, such as learned positions. */
    public Tensor forwardMaster(Tensor ids) { return F.embedding(ids, table.tensor()); }

    public Parameter table() { return table; }
}
