package org.d2v.backend.kernel;

import static org.d2v.backend.kernel.KernelChecks.fitsInt;
import static org.d2v.backend.kernel.KernelChecks.require;
import static org.d2v.backend.kernel.KernelChecks.roundUp;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Philox;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * Launches the fused attention kernels of {@code kernels/attention.cl} (qkv, out and their gradients
 * F32 or BF16, the statistics lse and delta and the ALiBi tensors F32): forward (online softmax
 * over key tiles, writes lse), and backward as four deterministic launches: delta = rowsum(dO ⊙ O),
 * dK/dV per key, dQ per query (which also leaves each row's ALiBi-scale share in delta), and a
 * per-head reduction into dAlibiScale.
 */
public final class AttentionKernels {
    private static final String PROGRAM = "attention";
    /** Rows per work-group and the largest head size: ATT_TILE and ATT_DMAX in attention.cl. */
    static final int TILE = 32;
    static final int MAX_HEAD_DIM = 128;
    private static final int ROWS_PER_GROUP = 64;
    private static final int REDUCTION = 64;

    private final KernelRuntime rt;
    private final KernelVariants variants;

    public AttentionKernels(KernelRuntime rt, KernelVariants variants) {
        this.rt = rt;
        this.variants = variants;
    }

    /** See {@link org.d2v.backend.Ops#attention}. */
    public void forward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                        Tensor keyPadding, Tensor out, Tensor lse) {
        checkForward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse);
        Object[] args = concat(inputs(d, qkv, alibiSlopes, alibiScale, positions, keyPadding), new Object[] {out, lse},
                params(d));
        launchRowKernel(d, "attention_forward", args);
    }

    /** See {@link org.d2v.backend.Ops#attentionBackward}. delta is scratch and holds no meaning afterwards. */
    public void backward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                         Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta,
                         Tensor dqkv, Tensor dAlibiScale, boolean accumulate) {
        checkBackward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, dout, lse, delta, dqkv, dAlibiScale);
        int rows = d.batch() * d.heads() * d.tokens();
        rt.launch(PROGRAM, "attention_delta", new long[] {roundUp(rows, ROWS_PER_GROUP)}, new long[] {ROWS_PER_GROUP},
                out, dout, delta, d.batch(), d.tokens(), d.heads(), d.headDim());
        Object[] common = concat(inputs(d, qkv, alibiSlopes, alibiScale, positions, keyPadding),
                new Object[] {dout, lse, delta, dqkv}, params(d), new Object[] {accumulate ? 1 : 0});
        launchRowKernel(d, "attention_backward_kv", common);
        // Runs after backward_kv, which still needs delta: backward_q overwrites it with the ALiBi shares.
        launchRowKernel(d, "attention_backward_q", common);
        if (d.alibi()) {
            rt.launch(PROGRAM, "attention_alibi_grad", new long[] {(long) REDUCTION * d.heads()}, new long[] {REDUCTION},
                    delta, alibiSlopes, alibiScale, dAlibiScale, d.batch(), d.tokens(), d.heads());
        }
    }

    /**
     * A row kernel in the shape {@link KernelVariants} chose: GPU-shaped, the tiled one (rows of a
     * work-group share K/V or Q/dO tiles through local memory); CPU-shaped, its barrier-free "_rows"
     * twin, 2–3× faster on PoCL (where every value live across a barrier is spilled, and a 32-row
     * group mostly idles at the student's 11 tokens).
     */
    private void launchRowKernel(AttentionDesc d, String kernel, Object[] args) {
        if (variants.tiled(KernelVariants.Tiled.ATTENTION)) {
            rt.launch(PROGRAM, kernel, rowGrid(d), rowGroup(), args);
        } else {
            long rows = (long) d.batch() * d.heads() * d.tokens();
            rt.launch(PROGRAM, kernel + "_rows", new long[] {roundUp(rows, ROWS_PER_GROUP)}, new long[] {ROWS_PER_GROUP},
                    args);
        }
    }

    private static long[] rowGrid(AttentionDesc d) {
        return new long[] {roundUp(d.tokens(), TILE) * d.batch() * d.heads()};
    }

    private static long[] rowGroup() { return new long[] {TILE}; }

    /** qkv and the optional inputs; those the descriptor switches off travel as null pointers (never read). */
    private static Object[] inputs(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                                   Tensor keyPadding) {
        boolean a = d.alibi();
        return new Object[] {qkv, a ? alibiSlopes : null, a ? alibiScale : null, a ? positions : null,
            d.keyPadding() ? keyPadding : null};
    }

    /** The scalar parameters every row kernel takes after its tensors, in attention.cl's order. */
    private static Object[] params(AttentionDesc d) {
        return new Object[] {d.batch(), d.tokens(), d.heads(), d.headDim(), (float) d.scale(),
            d.alibi() ? 1 : 0, d.keyPadding() ? 1 : 0,
            Philox.dropThreshold(d.dropout()), (float) (1.0 / (1.0 - d.dropout())), d.seed(), d.offset()};
    }

    private static Object[] concat(Object[]... parts) {
        int n = 0;
        for (Object[] p : parts) n += p.length;
        Object[] all = new Object[n];
        int at = 0;
        for (Object[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /** The backward's argument checks (KernelOps runs them before any fast variant). */
    static void checkBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                              Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta, Tensor dqkv, Tensor dAlibiScale) {
        checkForward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse);
        long bt = (long) d.batch() * d.tokens();
        require(dout, qkv.dtype(), bt * d.dim(), "attentionBackward dout [B,T,H,Dh] (stored as qkv)");
        require(delta, DType.F32, bt * d.heads(), "attentionBackward delta [B,H,T]");
        require(dqkv, qkv.dtype(), bt * 3 * d.dim(), "attentionBackward dqkv [B,T,3,H,Dh] (stored as qkv)");
        fitsInt(dqkv, "attentionBackward dqkv");
        if (d.alibi()) require(dAlibiScale, DType.F32, d.heads(), "attentionBackward dAlibiScale [H]");
    }

    /** The forward's argument checks (KernelOps runs them before any fast variant). */
    static void checkForward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                              Tensor keyPadding, Tensor out, Tensor lse) {
        if (d.headDim() > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention kernels support head sizes up to " + MAX_HEAD_DIM
                    + " (ATT_DMAX in kernels/attention.cl), got " + d.headDim());
        }
        long bt = (long) d.batch() * d.tokens();
        if (qkv == null || (qkv.dtype() != DType.F32 && qkv.dtype() != DType.BF16)) {
            throw new IllegalArgumentException("attention qkv [B,T,3,H,Dh] must be F32 or BF16, got " + (qkv == null ? "none" : qkv.dtype()));
        }
        require(qkv, qkv.dtype(), bt * 3 * d.dim(), "attention qkv [B,T,3,H,Dh]");
        require(out, qkv.dtype(), bt * d.dim(), "attention out [B,T,H,Dh] (stored as qkv)");
        require(lse, DType.F32, bt * d.heads(), "attention lse [B,H,T]");
        fitsInt(qkv, "attention qkv");
        if (d.alibi()) {
            require(alibiSlopes, DType.F32, d.heads(), "attention alibiSlopes [H]");
            require(alibiScale, DType.F32, d.heads(), "attention alibiScale [H]");
            require(positions, DType.I32, bt, "attention positions [B,T]");
        }
        if (d.keyPadding()) require(keyPadding, DType.I32, bt, "attention keyPadding [B,T]");
    }
}
