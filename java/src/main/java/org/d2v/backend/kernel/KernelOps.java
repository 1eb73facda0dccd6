package org.d2v.backend.kernel;

import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.Philox;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The op set over any {@link KernelRuntime}: shape checks, launch geometry and arguments, written
 * once for OpenCL and CUDA. Kernels compute in F32 and store activations in F32 or BF16 (each
 * program is compiled per storage {@link Flavour}; the tensors' dtypes choose it); statistics,
 * reductions, losses, master weights, gradients of parameters and optimiser state are F32. F64 is
 * rejected. Every op checks its dtypes first and names the tensor that does not fit.
 *
 * <p>Whole-tensor reductions (sums, losses) run in two deterministic stages through a small
 * partial-sum buffer that this object owns (allocated once, freed by {@link #close()}), so the
 * device's bytesInUse stays constant from step to step. Construct it once the runtime's
 * {@code device()} can allocate. Like the device's queue, one instance serves one thread at a time.
 *
 * <p>Deterministic throughout: no atomics; every sum runs in a fixed order, so the same inputs give
 * bit-identical outputs on the same device. scatterRows needs distinct indices within a sample (as
 * the masks produce); gather/scatter indices are not bounds-checked, embedding ids and
 * cross-entropy labels are, on the device (see {@link #takeIndexErrors}): no op reads anything back,
 * so a step queues its work without ever waiting for the device.
 */
public final class KernelOps implements Ops, AutoCloseable {
    /** Work-group size of 1-D launches and of every block reduction (the kernels' LOCAL arrays match). */
    static final int LOCAL = 256;
    /** Work-groups of a whole-tensor reduction: the number of partial sums. */
    static final int REDUCE_GROUPS = 256;

    private final KernelRuntime rt;
    private KernelVariants variants;
    private final DeviceBuffer partialsBuffer;
    private final Tensor partials;
    private final DeviceBuffer indexErrorsBuffer;
    /** 1 once a launch met an out-of-range id or label (see {@link #takeIndexErrors}). */
    private final Tensor indexErrors;
    /** Whether an id-checking launch ran since the flag was last taken or checked. */
    private boolean indexErrorsUnread;
    private DeviceBuffer scratchBuffer;
    private final FastVariants fast;

    public KernelOps(KernelRuntime runtime) {
        if (runtime.maxWorkGroupSize() < LOCAL) {
            throw new IllegalStateException(runtime.api() + ": work-groups of " + LOCAL
                    + " are needed, the device allows " + runtime.maxWorkGroupSize());
        }
        this.rt = runtime;
        this.variants = KernelVariants.of(runtime.capabilities());
        this.partialsBuffer = runtime.device().allocate(DType.F32, REDUCE_GROUPS);
        this.partials = Tensor.view(partialsBuffer, 0, Shape.of(REDUCE_GROUPS));
        this.indexErrorsBuffer = runtime.device().allocate(DType.F32, 1);
        this.indexErrors = Tensor.view(indexErrorsBuffer, 0, Shape.of(1));
        runtime.device().upload(indexErrorsBuffer, 0, new double[] {0});
        this.fast = new FastVariants(this, concat(VecVariants.all(runtime), Bf16Variants.all(runtime)));
    }

    private static java.util.List<FastVariant<?>> concat(java.util.List<FastVariant<?>> a, java.util.List<FastVariant<?>> b) {
        java.util.List<FastVariant<?>> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    public KernelRuntime runtime() { return rt; }

    /** The kernel variants this op set launches (chosen from the device's capabilities). */
    public KernelVariants variants() { return variants; }

    /**
     * Forces the kernel shape of this device from now on (tests and benchmarks: the GPU-shaped
     * kernels on PoCL, or both shapes side by side); AUTO returns to the capability's choice.
     */
    public void useShape(KernelVariants.Shape shape) { variants = KernelVariants.of(rt.capabilities(), shape); }

    /** The fast variants of this device (CUDA-only kernels, libraries), each self-checked before its first use. */
    public FastVariants fast() { return fast; }

    @Override
    public void close() {
        fast.close();
        partialsBuffer.close();
        indexErrorsBuffer.close();
        if (scratchBuffer != null) scratchBuffer.close();
    }

    /**
     * Scratch for the first pass of two-pass reductions, reused by every op (launches run in order
     * on one queue/stream, so an op's second pass has read it before the next op writes it). It
     * only grows, so bytesInUse settles after the first step.
     */
    private Tensor scratch(long n) {
        if (scratchBuffer == null || scratchBuffer.length() < n) {
            long size = Math.max(n, scratchBuffer == null ? 0 : 2 * scratchBuffer.length());
            if (scratchBuffer != null) scratchBuffer.close();
            scratchBuffer = rt.device().allocate(DType.F32, size);
        }
        return Tensor.view(scratchBuffer, 0, Shape.of(count(n, "scratch")));
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static long roundUp(long n, long m) { return (n + m - 1) / m * m; }

    private static int acc(boolean accumulate) { return accumulate ? 1 : 0; }

    /** {@code t} is stored as kernels can store floats: F32 or BF16 (never F64). */
    private static void storable(String op, Tensor t) {
        if (t != null && t.dtype() != DType.F32 && t.dtype() != DType.BF16) {
            throw new IllegalArgumentException(op + ": kernel backends store floats as F32 or BF16, got " + t.dtype() + " " + t);
        }
    }

    /**
     * Activations of one op: F32 or BF16, all the same (the op runs in that storage flavour). A
     * bf16 tensor meeting an fp32 one is a missing cast (F.cast), named here with both.
     */
    private static void acts(String op, Tensor... ts) {
        Tensor first = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            storable(op, t);
            if (first == null) first = t;
            else if (t.dtype() != first.dtype()) {
                throw new IllegalArgumentException(op + ": activations of one op share a storage dtype, got " + first.dtype()
                        + " " + first + " and " + t.dtype() + " " + t + " (cast one with F.cast)");
            }
        }
    }

    /**
     * Tensors kernels keep in F32 whatever the activations' storage: statistics, sums, losses,
     * broadcast vectors, master weights, parameter gradients and optimiser state.
     */
    private static void f32(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != DType.F32) {
                throw new IllegalArgumentException(op + ": " + (t.name() != null ? t.name() + " " : "") + t.shape()
                        + " must be F32 (statistics, sums, losses, master weights, gradients and optimiser state stay fp32"
                        + " when activations are bf16), got " + t.dtype());
            }
        }
    }

    private static void i32(String op, Tensor t) {
        if (t != null && t.dtype() != DType.I32) throw new IllegalArgumentException(op + ": expected I32 indices, got " + t.dtype());
    }

    private static void requireSize(Tensor t, long n, String what) {
        if (t.numel() != n) throw new IllegalArgumentException(what + ": expected " + n + " elements, got " + t.shape());
    }

    private static int count(long n, String op) {
        if (n > Integer.MAX_VALUE - LOCAL) throw new IllegalArgumentException(op + ": " + n + " elements exceed the kernels' int indexing");
        return (int) n;
    }

    /** One work item per element, in groups of {@link #LOCAL}. */
    private void launch1(String program, String kernel, long n, Object... args) {
        if (n == 0) return;
        rt.launch(program, kernel, new long[] {roundUp(n, LOCAL)}, new long[] {LOCAL}, args);
    }

    /**
     * Work-items of the CPU-shaped twins that own a whole row or chunk: small work-groups, so that
     * PoCL deals them out over all its worker threads (a work-group is one thread's unit of work).
     */
    static final int ITEMS_LOCAL = 16;

    /** n work-items (one per row or chunk) in work-groups of {@link #ITEMS_LOCAL}. */
    private void launchItems(String program, String kernel, long n, Object... args) {
        if (n == 0) return;
        rt.launch(program, kernel, new long[] {roundUp(n, ITEMS_LOCAL)}, new long[] {ITEMS_LOCAL}, args);
    }

    /** One work-group of {@link #LOCAL} per unit (row, segment). */
    private void launchGroups(String program, String kernel, long groups, Object... args) {
        if (groups == 0) return;
        rt.launch(program, kernel, new long[] {groups * LOCAL}, new long[] {LOCAL}, args);
    }

    /** Units per work-item when {@link #REDUCE_GROUPS} work-items share {@code units} (CPU-shaped reductions). */
    private static int reduceChunk(long units) { return Math.toIntExact(Math.max(1, (units + REDUCE_GROUPS - 1) / REDUCE_GROUPS)); }

    /** Adds the partial sums into out[0] (scaled), then the partials buffer is free again. */
    private void finishSum(double scale, Tensor out, boolean accumulate) {
        launchGroups("reduce", "finish_sum", 1, REDUCE_GROUPS, partials, (float) scale, out, acc(accumulate));
    }

    // ---- memory and elementwise ----------------------------------------------------------------

    @Override
    public void fill(Tensor x, double value) {
        if (x.dtype() == DType.I32) {
            if (value != Math.rint(value)) throw new IllegalArgumentException("fill: " + value + " into an I32 tensor");
            launch1("elementwise", "fill_int", x.numel(), count(x.numel(), "fill"), x, (int) value);
            return;
        }
        acts("fill", x);
        launch1("elementwise", "fill", x.numel(), count(x.numel(), "fill"), x, (float) value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        requireSize(dst, src.numel(), "copy");
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("copy: " + src.dtype() + " to " + dst.dtype() + " (a conversion is a cast)");
        }
        if (src.dtype() != DType.I32) storable("copy", src);
        launch1("elementwise", src.dtype() == DType.BF16 ? "copy_u16" : "copy", src.numel(), count(src.numel(), "copy"), src, dst);
    }

    @Override
    public void cast(Tensor src, Tensor dst, boolean accumulate) {
        storable("cast", src);
        storable("cast", dst);
        requireSize(dst, src.numel(), "cast");
        int n = count(src.numel(), "cast");
        if (src.dtype() == dst.dtype()) {
            if (accumulate) axpby(1, src, 1, dst);
            else copy(src, dst);
        } else if (dst.dtype() == DType.BF16) {
            launch1("elementwise", "to_bf16", n, n, src, dst, acc(accumulate));
        } else {
            launch1("elementwise", "from_bf16", n, n, src, dst, acc(accumulate));
        }
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        acts("axpby", x, y);
        requireSize(y, x.numel(), "axpby");
        if (fast.ran(new FastCall.Axpby(alpha, x, beta, y))) return;
        launch1("elementwise", "axpby", x.numel(), count(x.numel(), "axpby"), (float) alpha, x, (float) beta, y);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        acts("add", a, b, out);
        requireSize(b, a.numel(), "add");
        requireSize(out, a.numel(), "add");
        if (fast.ran(new FastCall.Add(a, b, out))) return;
        launch1("elementwise", "add", a.numel(), count(a.numel(), "add"), a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        acts("mul", a, b, out);
        requireSize(b, a.numel(), "mul");
        requireSize(out, a.numel(), "mul");
        launch1("elementwise", "mul", a.numel(), count(a.numel(), "mul"), a, b, out, acc(accumulate));
    }

    @Override
    public void addBroadcast(Tensor x, Tensor v, Tensor out) {
        acts("addBroadcast", x, out);
        f32("addBroadcast v", v);
        requireSize(out, x.numel(), "addBroadcast");
        if (v.numel() == 0 || x.numel() % v.numel() != 0) {
            throw new IllegalArgumentException("addBroadcast: " + x.shape() + " is not rows of " + v.shape());
        }
        int n = count(x.numel(), "addBroadcast"), m = (int) v.numel();
        if (variants.tiled(KernelVariants.Tiled.ROWWISE)) launch1("elementwise", "add_broadcast", n, n, m, x, v, out);
        else launchItems("elementwise", "add_broadcast_rowwise", n / m, n / m, m, x, v, out);
    }

    @Override
    public void reduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) {
        storable("reduceMiddle", x);
        f32("reduceMiddle out", out);
        requireSize(x, (long) a * b * c, "reduceMiddle x");
        requireSize(out, (long) a * c, "reduceMiddle out");
        count(x.numel(), "reduceMiddle");
        if ((long) a * c == 0) return;
        if (b > 0 && fast.ran(new FastCall.ReduceMiddle(a, b, c, alpha, x, out, accumulate))) return;
        if (b <= 256 || (long) a * c >= 65536) {
            reduceMiddleDirect(a, b, c, alpha, x, out, accumulate);
            return;
        }
        // Few long sums (bias gradients: a = 1, b = rows) would leave most of a GPU idle: sum chunks
        // of rows first, then the chunks, both in a fixed order.
        int chunk = chunk(b), chunks = (b + chunk - 1) / chunk;
        Tensor part = scratch((long) a * chunks * c);
        launch1("elementwise", "reduce_middle_chunks", part.numel(), a, b, c, chunk, x, part);
        reduceMiddleDirect(a, chunks, c, alpha, part, out, accumulate);
    }

    /** One work item per output, summing its column in order. */
    private void reduceMiddleDirect(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) {
        launch1("elementwise", "reduce_middle", (long) a * c, a, b, c, (float) alpha, x, out, acc(accumulate));
    }

    /** Rows per chunk of a two-pass column sum over b rows: about √b, so both passes are short. */
    private static int chunk(int b) { return Math.max(32, (int) Math.ceil(Math.sqrt(b))); }

    @Override
    public void broadcastMiddle(int a, int b, int c, double alpha, Tensor dout, Tensor dx, boolean accumulate) {
        f32("broadcastMiddle dout", dout);
        storable("broadcastMiddle", dx);
        requireSize(dout, (long) a * c, "broadcastMiddle dout");
        requireSize(dx, (long) a * b * c, "broadcastMiddle dx");
        count(dx.numel(), "broadcastMiddle");
        if (variants.tiled(KernelVariants.Tiled.ROWWISE)) {
            launch1("elementwise", "broadcast_middle", dx.numel(), a, b, c, (float) alpha, dout, dx, acc(accumulate));
        } else {
            launchItems("elementwise", "broadcast_middle_rowwise", (long) a * b, a * b, b, c, (float) alpha, dout, dx, acc(accumulate));
        }
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        storable("sumSquares", x);
        f32("sumSquares out", out);
        requireSize(out, 1, "sumSquares out");
        partialSums(x, true);
        finishSum(1.0, out, accumulate);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        storable("sum", x);
        f32("sum out", out);
        requireSize(out, 1, "sum out");
        partialSums(x, false);
        finishSum(1.0, out, false);
    }

    @Override
    public void meanChannelStd(int n, Tensor mean, Tensor meanSquare, Tensor out) {
        f32("meanChannelStd", mean, meanSquare, out);
        requireSize(meanSquare, mean.numel(), "meanChannelStd meanSquare");
        requireSize(out, 1, "meanChannelStd out");
        if (mean.numel() < 1) throw new IllegalArgumentException("meanChannelStd: no channels");
        launchGroups("reduce", "mean_channel_std", 1, count(mean.numel(), "meanChannelStd"), n, mean, meanSquare, out);
    }

    private void partialSums(Tensor x, boolean square) {
        int n = count(x.numel(), "sum");
        if (variants.tiled(KernelVariants.Tiled.REDUCTION)) {
            rt.launch("reduce", "partial_sum", new long[] {(long) REDUCE_GROUPS * LOCAL}, new long[] {LOCAL}, n, x, square ? 1 : 0, partials);
        } else {
            launchItems("reduce", "partial_sum_chunks", REDUCE_GROUPS, n, reduceChunk(n), x, square ? 1 : 0, partials);
        }
    }

    // ---- GEMM ----------------------------------------------------------------------------------

    /** The GEMM kernel's output tile (work-groups of 16×16 threads, 4×4 outputs each). */
    static final int GEMM_TILE = 64;

    @Override
    public void matmul(MatmulDesc d, Tensor a, Tensor b, Tensor bias, Tensor c, Tensor preact, boolean accumulate) {
        acts("matmul A, B", a, b);
        acts("matmul C, preact", c, preact);
        f32("matmul bias", bias);
        if (a.dtype() == DType.F32 && c.dtype() == DType.BF16) {
            throw new IllegalArgumentException("matmul: F32 operands with a BF16 result " + c + ": no GEMM flavour stores that (cast the operands)");
        }
        boolean gelu = d.activation() == MatmulDesc.Activation.GELU;
        if (accumulate && gelu) throw new IllegalArgumentException("matmul: accumulate with an activation is not defined");
        int m = d.m(), n = d.n(), k = d.k();
        requireSize(a, (long) d.batch() * m * k, "matmul A");
        requireSize(b, (long) (d.broadcastB() ? 1 : d.batch()) * k * n, "matmul B");
        requireSize(c, (long) d.batch() * m * n, "matmul C");
        if (bias != null) requireSize(bias, n, "matmul bias");
        if (preact != null) requireSize(preact, c.numel(), "matmul preact");
        count(Math.max(a.numel(), Math.max(b.numel(), c.numel())), "matmul");
        if (fast.ran(new FastCall.Matmul(d, a, b, bias, c, preact, accumulate))) return;
        String kernel = variants.gemm(d);
        long tilesX, tilesY, groupX = 16, groupY = 16;
        switch (kernel) {
            case "gemm_dot" -> { tilesX = ceilDiv(n, GEMM_DOT_TILE[1]); tilesY = ceilDiv(m, GEMM_DOT_TILE[0]); groupX = groupY = 8; }
            case "gemm_outer" -> { tilesX = ceilDiv(n, GEMM_OUTER_TILE[1]); tilesY = ceilDiv(m, GEMM_OUTER_TILE[0]); groupX = groupY = 8; }
            default -> { tilesX = roundUp(n, GEMM_TILE) / 4; tilesY = roundUp(m, GEMM_TILE) / 4; }
        }
        if (d.batch() > 65535 || roundUp(tilesY, groupY) / groupY > 65535) {
            throw new IllegalArgumentException("matmul: batch " + d.batch() + " or m " + m + " exceeds the launch grid (CUDA allows 65535 blocks in y and z)");
        }
        // The barrier-free variants never fuse GELU (see gemm_store_linear): they write the
        // pre-activation (into preact when it is wanted), then the elementwise GELU kernel runs.
        boolean fused = kernel.equals("gemm");
        Tensor out = gelu && !fused && preact != null ? preact : c;
        rt.launch("gemm", kernel, new long[] {roundUp(tilesX, groupX), roundUp(tilesY, groupY), d.batch()},
                new long[] {groupX, groupY, 1},
                m, n, k, d.transA() ? 1 : 0, d.transB() ? 1 : 0, m * k, d.broadcastB() ? 0 : k * n, m * n,
                a, b, bias, out, fused && gelu && preact != null ? preact : null,
                bias != null ? 1 : 0, fused && gelu ? 1 : 0, fused && gelu && preact != null ? 1 : 0, acc(accumulate));
        if (gelu && !fused) gelu(out, c);
    }

    /** Rows × columns of C one work-item computes in gemm_outer and gemm_dot (OUTER_TM/TN, DOT_TM/TN in gemm.cl). */
    static final int[] GEMM_OUTER_TILE = {4, 16};
    static final int[] GEMM_DOT_TILE = {4, 4};

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    // ---- activations -----------------------------------------------------------------------------

    @Override
    public void gelu(Tensor x, Tensor y) {
        acts("gelu", x, y);
        requireSize(y, x.numel(), "gelu");
        if (fast.ran(new FastCall.Gelu(x, y))) return;
        launch1("elementwise", "gelu_forward", x.numel(), count(x.numel(), "gelu"), x, y);
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        acts("geluBackward", x, dy, dx);
        requireSize(dy, x.numel(), "geluBackward dy");
        requireSize(dx, x.numel(), "geluBackward dx");
        if (fast.ran(new FastCall.GeluBackward(x, dy, dx, accumulate))) return;
        launch1("elementwise", "gelu_backward", x.numel(), count(x.numel(), "geluBackward"), x, dy, dx, acc(accumulate));
    }

    // ---- normalisation ---------------------------------------------------------------------------

    @Override
    public void layerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd) {
        acts("layerNorm", x, y);
        f32("layerNorm", gamma, beta, mean, rstd);
        long n = (long) d.rows() * d.dim();
        requireSize(x, n, "layerNorm x");
        requireSize(y, n, "layerNorm y");
        requireSize(mean, d.rows(), "layerNorm mean");
        requireSize(rstd, d.rows(), "layerNorm rstd");
        if (gamma != null) requireSize(gamma, d.dim(), "layerNorm gamma");
        if (beta != null) requireSize(beta, d.dim(), "layerNorm beta");
        count(n, "layerNorm");
        if (fast.ran(new FastCall.LayerNorm(d, x, gamma, beta, y, mean, rstd))) return;
        boolean perRow = !variants.tiled(KernelVariants.Tiled.LAYER_NORM);
        if (perRow) launch1("norm", "layer_norm_forward_rows", d.rows(), d.rows(),
                d.dim(), (float) d.eps(), x, gamma, beta, y, mean, rstd, gamma != null ? 1 : 0, beta != null ? 1 : 0);
        else launchGroups("norm", "layer_norm_forward", d.rows(), d.rows(), d.dim(), (float) d.eps(), x, gamma, beta, y,
                mean, rstd, gamma != null ? 1 : 0, beta != null ? 1 : 0);
    }

    @Override
    public void layerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        acts("layerNormBackward", x, dy, dx);
        f32("layerNormBackward", gamma, mean, rstd, dgamma, dbeta);
        long n = (long) d.rows() * d.dim();
        requireSize(x, n, "layerNormBackward x");
        requireSize(dy, n, "layerNormBackward dy");
        requireSize(mean, d.rows(), "layerNormBackward mean");
        requireSize(rstd, d.rows(), "layerNormBackward rstd");
        if (gamma != null) requireSize(gamma, d.dim(), "layerNormBackward gamma");
        if (dgamma != null) requireSize(dgamma, d.dim(), "layerNormBackward dgamma");
        if (dbeta != null) requireSize(dbeta, d.dim(), "layerNormBackward dbeta");
        count(n, "layerNormBackward");
        if (dx != null) requireSize(dx, n, "layerNormBackward dx");
        if (fast.ran(new FastCall.LayerNormBackward(d, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, accumulate))) return;
        if (dx != null) {
            requireSize(dx, n, "layerNormBackward dx");
            if (!variants.tiled(KernelVariants.Tiled.LAYER_NORM)) launch1("norm", "layer_norm_backward_input_rows", d.rows(),
                    d.rows(), d.dim(), x, gamma, mean, rstd, dy, dx, gamma != null ? 1 : 0, acc(accumulate));
            else launchGroups("norm", "layer_norm_backward_input", d.rows(), d.rows(), d.dim(), x, gamma, mean, rstd, dy, dx,
                    gamma != null ? 1 : 0, acc(accumulate));
        }
        if (dgamma != null || dbeta != null) {
            // sums over rows in two fixed-order passes: chunks of rows per column, then the chunks
            int rows = d.rows(), dim = d.dim();
            int chunk = rows <= 256 ? rows : chunk(rows), chunks = (rows + chunk - 1) / chunk;
            Tensor part = scratch(2L * chunks * dim);
            Tensor pg = part.view(0, Shape.of(chunks, dim)), pb = part.view((long) chunks * dim, Shape.of(chunks, dim));
            launch1("norm", "layer_norm_params_partial", (long) chunks * dim, rows, dim, chunk, x, mean, rstd, dy, pg, pb);
            if (dgamma != null) reduceMiddleDirect(1, chunks, dim, 1.0, pg, dgamma, true);
            if (dbeta != null) reduceMiddleDirect(1, chunks, dim, 1.0, pb, dbeta, true);
        }
    }

    @Override
    public void instanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd) {
        acts("instanceNorm", x, y);
        f32("instanceNorm", mean, rstd);
        long n = (long) batch * time * channels;
        requireSize(x, n, "instanceNorm x");
        requireSize(y, n, "instanceNorm y");
        requireSize(mean, (long) batch * channels, "instanceNorm mean");
        requireSize(rstd, (long) batch * channels, "instanceNorm rstd");
        count(n, "instanceNorm");
        if (fast.ran(new FastCall.InstanceNorm(batch, time, channels, eps, x, y, mean, rstd))) return;
        launch1("norm", "instance_norm_forward", (long) batch * channels, batch, time, channels, (float) eps, x, y, mean, rstd);
    }

    @Override
    public void instanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd,
                                     Tensor dy, Tensor dx, boolean accumulate) {
        acts("instanceNormBackward", x, dy, dx);
        f32("instanceNormBackward", mean, rstd);
        long n = (long) batch * time * channels;
        requireSize(x, n, "instanceNormBackward x");
        requireSize(dy, n, "instanceNormBackward dy");
        requireSize(dx, n, "instanceNormBackward dx");
        requireSize(mean, (long) batch * channels, "instanceNormBackward mean");
        requireSize(rstd, (long) batch * channels, "instanceNormBackward rstd");
        count(n, "instanceNormBackward");
        if (fast.ran(new FastCall.InstanceNormBackward(batch, time, channels, x, mean, rstd, dy, dx, accumulate))) return;
        launch1("norm", "instance_norm_backward", (long) batch * channels, batch, time, channels, x, mean, rstd, dy, dx,
                acc(accumulate));
    }

    // ---- tokens ----------------------------------------------------------------------------------

    private Tensor ids(String op, Tensor ids) {
        if (ids == null) throw new IllegalArgumentException(op + ": ids are required");
        i32(op, ids);
        indexErrorsUnread = true;
        return ids;
    }

    @Override
    public void takeIndexErrors(Tensor dst) {
        f32("takeIndexErrors", dst);
        requireSize(dst, 1, "takeIndexErrors dst");
        copy(indexErrors, dst);
        fill(indexErrors, 0);
        indexErrorsUnread = false;
    }

    /**
     * Called by the device before a download (the host waits there anyway): if an id-checking
     * launch ran and nobody took the flag, reads it and throws when it is set, so a bad id never
     * passes unnoticed. One small extra read, only after such launches.
     */
    public void checkIndexErrors() {
        if (!indexErrorsUnread) return;
        indexErrorsUnread = false;
        if (indexErrors.item() != 0) {
            fill(indexErrors, 0);
            throw new IllegalArgumentException("an embedding id or cross-entropy label was outside its range (found on the device, "
                    + "after the launch: the op read a clamped row instead)");
        }
    }

    @Override
    public void embedding(Tensor ids, Tensor table, Tensor out) {
        acts("embedding", table, out);
        int vocab = table.dim(0), dim = (int) (table.numel() / vocab), n = (int) ids.numel();
        requireSize(out, (long) n * dim, "embedding out");
        launch1("tokens", "embedding_forward", (long) n * dim, count((long) n * dim, "embedding"), dim, vocab,
                ids("embedding", ids), table, out, indexErrors);
    }

    /**
     * Deterministic without atomics and without reading the ids back: the (id, position) pairs are
     * sorted on the device (bitonic, log²/2 passes over the next power of two), then each run of
     * equal ids is summed in order of position.
     */
    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        storable("embeddingBackward", dout);
        f32("embeddingBackward dtable", dtable);
        int vocab = dtable.dim(0), dim = (int) (dtable.numel() / vocab), n = (int) ids.numel();
        requireSize(dout, (long) n * dim, "embeddingBackward dout");
        ids("embeddingBackward", ids);
        if (n == 0) return;
        count((long) n * dim, "embeddingBackward");
        int padded = Integer.highestOneBit(Math.max(1, n - 1)) << 1;
        // Temporaries of the caching allocator: closing them after the launches is safe, since
        // whatever reuses the blocks is queued after these launches.
        try (Tensor keys = Tensor.empty(rt.device(), DType.I32, Shape.of(padded));
             Tensor pos = Tensor.empty(rt.device(), DType.I32, Shape.of(padded))) {
            launch1("tokens", "embedding_sort_init", padded, n, padded, vocab, ids, keys, pos, indexErrors);
            for (int k = 2; k <= padded; k <<= 1) {
                for (int j = k >> 1; j > 0; j >>= 1) launch1("tokens", "bitonic_sort_step", padded, padded, j, k, keys, pos);
            }
            launch1("tokens", "embedding_backward_sorted", (long) n * dim, n, dim, keys, pos, dout, dtable);
        }
    }

    /**
     * gather_rows / scatter_rows: a grid of (row length, rows), work-groups of one row's elements
     * (rounded up to a multiple of 8, at most {@link #LOCAL}) by one row; rows past 65535 fold into z
     * (the kernels read row GID(1) + GID(2)·GLOBAL_SIZE(1), and skip those past the end).
     */
    private void launchRows(String kernel, long rows, int dim, Object... args) {
        if (rows == 0 || dim == 0) return;
        count(rows * dim, kernel);
        long local = Math.min(LOCAL, roundUp(dim, 8));
        long y = Math.min(rows, 65535), z = (rows + y - 1) / y; // CUDA allows 65535 blocks in y and z
        if (z > 65535) throw new IllegalArgumentException(kernel + ": " + rows + " rows exceed the launch grid");
        rt.launch("tokens", kernel, new long[] {roundUp(dim, local), y, z}, new long[] {local, 1, 1}, args);
    }

    private static void rowsLayout(String op, Tensor src, Tensor idx, Tensor dst) {
        if (src.shape().rank() != 3 || dst.shape().rank() != 3 || idx.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": expected 3-D tensors and 2-D indices, got " + src.shape()
                    + ", " + idx.shape() + ", " + dst.shape());
        }
    }

    @Override
    public void gatherRows(Tensor src, Tensor idx, Tensor dst) {
        acts("gatherRows", src, dst);
        i32("gatherRows", idx);
        rowsLayout("gatherRows", src, idx, dst);
        int batch = src.dim(0), tokens = src.dim(1), dim = src.dim(2), kept = idx.dim(1);
        requireSize(dst, (long) batch * kept * dim, "gatherRows dst");
        if (variants.tiled(KernelVariants.Tiled.ROWWISE)) {
            launchRows("gather_rows", batch * kept, dim, batch, tokens, kept, dim, src, idx, dst);
        } else {
            count((long) batch * kept * dim, "gatherRows");
            launchItems("tokens", "gather_rows_rowwise", batch * kept, batch, tokens, kept, dim, src, idx, dst);
        }
    }

    @Override
    public void scatterRows(Tensor src, Tensor idx, Tensor dst, boolean accumulate) {
        acts("scatterRows", src, dst);
        i32("scatterRows", idx);
        rowsLayout("scatterRows", dst, idx, src);
        int batch = dst.dim(0), tokens = dst.dim(1), dim = dst.dim(2), kept = idx.dim(1);
        requireSize(src, (long) batch * kept * dim, "scatterRows src");
        if (variants.tiled(KernelVariants.Tiled.ROWWISE)) {
            launchRows("scatter_rows", batch * kept, dim, batch, tokens, kept, dim, src, idx, dst, acc(accumulate));
        } else {
            count((long) batch * kept * dim, "scatterRows");
            launchItems("tokens", "scatter_rows_rowwise", batch * kept, batch, tokens, kept, dim, src, idx, dst, acc(accumulate));
        }
    }

    @Override
    public void repeatRows(Tensor x, int copies, Tensor out) {
        acts("repeatRows", x, out);
        if (copies < 1) throw new IllegalArgumentException("repeatRows: copies must be >= 1, got " + copies);
        int batch = x.dim(0), n = (int) (x.numel() / Math.max(1, batch));
        requireSize(out, (long) batch * copies * n, "repeatRows out");
        int total = count(out.numel(), "repeatRows");
        if (variants.tiled(KernelVariants.Tiled.ROWWISE)) launch1("tokens", "repeat_rows", total, total, n, copies, x, out);
        else launchItems("tokens", "repeat_rows_rowwise", batch * copies, batch * copies, n, copies, x, out);
    }

    @Override
    public void sumRepeats(Tensor dout, int copies, Tensor dx, boolean accumulate) {
        acts("sumRepeats", dout, dx);
        if (copies < 1) throw new IllegalArgumentException("sumRepeats: copies must be >= 1, got " + copies);
        int batch = dx.dim(0), n = (int) (dx.numel() / Math.max(1, batch));
        requireSize(dout, (long) batch * copies * n, "sumRepeats dout");
        int total = count(dout.numel(), "sumRepeats");
        if (variants.tiled(KernelVariants.Tiled.ROWWISE)) launch1("tokens", "sum_repeats", dx.numel(), total, n, copies, dout, dx, acc(accumulate));
        else launchItems("tokens", "sum_repeats_rowwise", batch, batch, n, copies, dout, dx, acc(accumulate));
    }

    // ---- losses ----------------------------------------------------------------------------------

    @Override
    public void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred, double gradScale) {
        acts("maskedRegression", pred, dpred);
        f32("maskedRegression", target, loss);
        i32("maskedRegression", mask);
        long n = (long) d.rows() * d.tokens() * d.dim();
        requireSize(pred, n, "maskedRegression pred");
        requireSize(target, n / d.clones(), "maskedRegression target");
        requireSize(mask, (long) d.rows() * d.tokens(), "maskedRegression mask");
        requireSize(loss, 1, "maskedRegression loss");
        if (dpred != null) requireSize(dpred, n, "maskedRegression dpred");
        if (fast.ran(new FastCall.MaskedRegression(d, pred, target, mask, loss, dpred, gradScale))) return;
        double coef = d.scale() / d.normalizer();
        float gradCoef = (float) (2 * coef * gradScale);
        if (variants.tiled(KernelVariants.Tiled.REDUCTION)) {
            rt.launch("loss", "masked_regression", new long[] {(long) REDUCE_GROUPS * LOCAL}, new long[] {LOCAL},
                    count(n, "maskedRegression"), d.tokens(), d.dim(), d.clones(), pred, target, mask, dpred,
                    dpred != null ? 1 : 0, gradCoef, partials);
        } else {
            launchItems("loss", "masked_regression_chunks", REDUCE_GROUPS, count(n, "maskedRegression"), d.tokens(), d.dim(),
                    d.clones(), reduceChunk((long) d.rows() * d.tokens()), pred, target, mask, dpred, dpred != null ? 1 : 0, gradCoef, partials);
        }
        finishSum(coef, loss, false);
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale) {
        acts("crossEntropy", logits, dlogits);
        f32("crossEntropy loss", loss);
        i32("crossEntropy", labels);
        int rows = logits.dim(0), classes = (int) (logits.numel() / Math.max(1, rows));
        requireSize(labels, rows, "crossEntropy labels");
        requireSize(loss, 1, "crossEntropy loss");
        if (dlogits != null) requireSize(dlogits, logits.numel(), "crossEntropy dlogits");
        count(logits.numel(), "crossEntropy");
        rt.launch("loss", "cross_entropy", new long[] {(long) REDUCE_GROUPS * LOCAL}, new long[] {LOCAL},
                rows, classes, logits, ids("crossEntropy labels", labels), dlogits, dlogits != null ? 1 : 0,
                (float) (gradScale / rows), partials, indexErrors);
        finishSum(1.0 / rows, loss, false);
    }

    // ---- randomness ------------------------------------------------------------------------------

    private static int threshold(double p) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout p must be in [0, 1), got " + p);
        return (int) Philox.dropThreshold(p); // the unsigned 32-bit threshold as its bit pattern
    }

    @Override
    public void dropout(Tensor x, Tensor y, double p, long seed, long offset) {
        acts("dropout", x, y);
        requireSize(y, x.numel(), "dropout");
        int n = count(x.numel(), "dropout"), threshold = threshold(p);
        if (fast.ran(new FastCall.Dropout(x, y, p, seed, offset, false))) return;
        launch1("random", "dropout", Philox.blocksUniform(n), n, x, y, threshold, (float) (1 / (1 - p)), seed, offset, 0);
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate) {
        acts("dropoutBackward", dy, dx);
        requireSize(dx, dy.numel(), "dropoutBackward");
        int n = count(dy.numel(), "dropoutBackward"), threshold = threshold(p);
        if (fast.ran(new FastCall.Dropout(dy, dx, p, seed, offset, accumulate))) return;
        launch1("random", "dropout", Philox.blocksUniform(n), n, dy, dx, threshold, (float) (1 / (1 - p)), seed, offset,
                acc(accumulate));
    }

    @Override
    public void normal(Tensor out, double mean, double std, long seed, long offset) {
        acts("normal", out);
        int n = count(out.numel(), "normal");
        if (fast.ran(new FastCall.Normal(out, mean, std, seed, offset))) return;
        launch1("random", "normal", Philox.blocksNormal(n), n, out, (float) mean, (float) std, seed, offset);
    }

    @Override
    public void uniform(Tensor out, long seed, long offset) {
        acts("uniform", out);
        int n = count(out.numel(), "uniform");
        launch1("random", "uniform", Philox.blocksUniform(n), n, out, seed, offset);
    }

    // ---- optimisation ----------------------------------------------------------------------------

    @Override
    public void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor working) {
        f32("adamw", param, grad, m, v, gradScale);
        bf16Copy("adamw", working, param);
        long n = param.numel();
        requireSize(grad, n, "adamw grad");
        requireSize(m, n, "adamw m");
        requireSize(v, n, "adamw v");
        if (gradScale != null) requireSize(gradScale, 1, "adamw gradScale");
        if (fast.ran(new FastCall.Adamw(d, param, grad, m, v, gradScale, working))) return;
        double stepSize = d.stepSize();
        launch1("optim", "adamw", n, count(n, "adamw"), param, grad, m, v, (float) d.beta1(), (float) (1 - d.beta1()),
                (float) d.beta2(), (float) (1 - d.beta2()), (float) d.eps(), (float) (d.lr() * d.weightDecay()), (float) stepSize,
                gradScale, gradScale != null ? 1 : 0, working, working != null ? 1 : 0);
    }

    /** A working copy the optimiser kernels write: BF16, as long as the masters (or none). */
    private static void bf16Copy(String op, Tensor working, Tensor master) {
        if (working == null) return;
        if (working.dtype() != DType.BF16) {
            throw new IllegalArgumentException(op + ": the working copy of fp32 masters is BF16, got " + working.dtype() + " " + working);
        }
        requireSize(working, master.numel(), op + " working copy");
    }

    @Override
    public void clipFactor(Tensor sumSquares, double maxNorm, Tensor norm, Tensor factor) {
        f32("clipFactor", sumSquares, norm, factor);
        requireSize(sumSquares, 1, "clipFactor sumSquares");
        requireSize(norm, 1, "clipFactor norm");
        requireSize(factor, 1, "clipFactor factor");
        launch1("optim", "clip_factor", 1, sumSquares, (float) maxNorm, norm, factor);
    }

    @Override
    public void ema(Tensor teacher, Tensor student, double tau, Tensor working) {
        f32("ema", teacher, student);
        bf16Copy("ema", working, teacher);
        requireSize(student, teacher.numel(), "ema");
        if (fast.ran(new FastCall.Ema(teacher, student, tau, working))) return;
        launch1("optim", "ema", teacher.numel(), count(teacher.numel(), "ema"), teacher, student, (float) tau, (float) (1 - tau),
                working, working != null ? 1 : 0);
    }

    // ---- attention and convolution: AttentionKernels, ConvKernels (helper oclb); the fast variants after the checks
    @Override public void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor lse) {
        AttentionKernels.checkForward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse);
        if (fast.ran(new FastCall.Attention(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse))) return;
        new AttentionKernels(rt, variants).forward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse);
    }
    @Override public void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta, Tensor dqkv, Tensor dAlibiScale, boolean accumulate) {
        AttentionKernels.checkBackward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, dout, lse, delta, dqkv, dAlibiScale);
        if (fast.ran(new FastCall.AttentionBackward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, dout, lse, delta, dqkv,
                dAlibiScale, accumulate))) return;
        new AttentionKernels(rt, variants).backward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, dout, lse, delta, dqkv, dAlibiScale, accumulate);
    }
    @Override public void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        ConvKernels k = new ConvKernels(rt, variants);
        k.checkForward(d, x, w, bias, y);
        if (fast.ran(new FastCall.Conv(d, x, w, bias, y))) return;
        k.forward(d, x, w, bias, y);
    }
    @Override public void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        ConvKernels k = new ConvKernels(rt, variants);
        k.checkBackwardInput(d, dy, w, dx);
        if (fast.ran(new FastCall.ConvBackwardInput(d, dy, w, dx, accumulate))) return;
        k.backwardInput(d, dy, w, dx, accumulate);
    }
    @Override public void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        ConvKernels k = new ConvKernels(rt, variants);
        k.checkBackwardWeight(d, x, dy, dw, dbias);
        if (fast.ran(new FastCall.ConvBackwardWeight(d, x, dy, dw, dbias))) return;
        k.backwardWeight(d, x, dy, dw, dbias);
    }
}
