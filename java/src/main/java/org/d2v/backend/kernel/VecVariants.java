package org.d2v.backend.kernel;

import java.util.List;
import org.d2v.backend.AdamWDesc;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The 16-byte vectorised memory-bound kernels of kernels/elementwise_vec.cu, norm_vec.cu,
 * loss_vec.cu and optim_vec.cu as fast variants of their portable twins (fp32 flavours; the
 * arguments, grids and preconditions are those of docs/cuda.md, "Memory-bound kernels"). They run
 * where the runtime launches CUDA-only programs on an sm_80 or newer GPU
 * ({@link DeviceCapabilities#cudaArch()}). Grids are about 8 blocks of 256 per SM, so every SM's
 * memory pipeline stays full; every kernel walks its work in a grid-stride loop, so any grid is correct.
 */
final class VecVariants {
    private VecVariants() {}

    /** The lowest compute capability the CUDA-only programs are built for (SASS sm_80). */
    static final int MIN_CUDA_ARCH = 80;
    static final int BLOCK = 256;

    static List<FastVariant<?>> all(KernelRuntime rt) {
        return List.of(new Add(rt), new Axpby(rt), new Gelu(rt), new GeluBackward(rt), new LayerNorm(rt),
                new LayerNormBackward(rt), new InstanceNorm(rt), new InstanceNormBackward(rt), new MaskedRegression(rt),
                new Adamw(rt), new Ema(rt));
    }

    /** Why a runtime cannot launch CUDA-only programs, or null when it can. */
    static String cudaOnly(KernelRuntime rt) {
        int arch = rt.capabilities().cudaArch();
        if (arch == 0) return "a CUDA-only kernel (kernels/*.cu): this device runs the portable kernels only";
        if (arch < MIN_CUDA_ARCH) return "needs sm_" + MIN_CUDA_ARCH + " or newer, the GPU is sm_" + arch;
        return null;
    }

    /**
     * Null when every given tensor (null: absent) is F32, else which is not: these are the kernels'
     * _f32 flavours, and the op set may take other storage dtypes (their flavours are other variants).
     */
    static String notF32(Tensor... ts) {
        for (Tensor t : ts) if (t != null && t.dtype() != DType.F32) return "a " + t.dtype() + " tensor (this is the fp32 flavour)";
        return null;
    }

    /** Whether a float view starts on a 16-byte boundary (buffers themselves are at least 256-byte aligned). */
    static boolean aligned(Tensor t) { return t == null || t.offset() % 4 == 0; }

    /** Null, or which of the named tensors is not 16-byte aligned. */
    static String unaligned(Object... namesAndTensors) {
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            Tensor t = (Tensor) namesAndTensors[i + 1];
            if (!aligned(t)) return namesAndTensors[i] + " starts at element " + t.offset() + ", not on a 16-byte boundary";
        }
        return null;
    }

    /** A variant launching one program of kernels/*.cu, with the grid rule of the memory-bound kernels. */
    abstract static class Vec<C extends FastCall> extends FastVariant<C> {
        final KernelRuntime rt;
        final String program;
        final String kernel;

        Vec(KernelRuntime rt, String program, String kernel, Class<C> op, String twin) {
            this(rt, program, kernel, op, twin, Precision.F32);
        }

        /** A flavour of another precision (the _bf16 kernels: {@link Bf16Variants}). */
        Vec(KernelRuntime rt, String program, String kernel, Class<C> op, String twin, Precision precision) {
            super(program + "/" + kernel, op, twin, precision);
            this.rt = rt;
            this.program = program;
            this.kernel = kernel;
        }

        @Override public String unavailable() { return cudaOnly(rt); }

        /** About 8 resident blocks of 256 per SM, fewer when there is less work (units of 8 elements per thread). */
        int grid(long units) { return (int) Math.max(1, Math.min((units + BLOCK - 1) / BLOCK, 8L * rt.capabilities().computeUnits())); }

        void launchBlocks(long gridX, long gridY, int block, Object... args) {
            rt.launch(program, kernel, new long[] {gridX * block, gridY}, new long[] {block, 1}, args);
        }

        void launch(long grid, Object... args) { launchBlocks(grid, 1, BLOCK, args); }
    }

    // ---- elementwise_vec.cu: no preconditions (unaligned views and tails take a scalar path) ----

    static final class Add extends Vec<FastCall.Add> {
        Add(KernelRuntime rt) { super(rt, "elementwise_vec", "add_vec_f32", FastCall.Add.class, "elementwise/add"); }
        @Override public String inapplicable(FastCall.Add c) { return notF32(c.a(), c.b(), c.out()); }
        @Override public void run(FastCall.Add c) {
            int n = (int) c.a().numel();
            launch(grid(n / 8 + 1), n, c.a(), c.b(), c.out());
        }
    }

    static final class Axpby extends Vec<FastCall.Axpby> {
        Axpby(KernelRuntime rt) { super(rt, "elementwise_vec", "axpby_vec_f32", FastCall.Axpby.class, "elementwise/axpby"); }
        @Override public String inapplicable(FastCall.Axpby c) { return notF32(c.x(), c.y()); }
        @Override public void run(FastCall.Axpby c) {
            int n = (int) c.x().numel();
            launch(grid(n / 8 + 1), n, (float) c.alpha(), c.x(), (float) c.beta(), c.y());
        }
    }

    static final class Gelu extends Vec<FastCall.Gelu> {
        Gelu(KernelRuntime rt) { super(rt, "elementwise_vec", "gelu_forward_vec_f32", FastCall.Gelu.class, "elementwise/gelu_forward"); }
        @Override public String inapplicable(FastCall.Gelu c) { return notF32(c.x(), c.y()); }
        @Override public void run(FastCall.Gelu c) {
            int n = (int) c.x().numel();
            launch(grid(n / 8 + 1), n, c.x(), c.y());
        }
    }

    static final class GeluBackward extends Vec<FastCall.GeluBackward> {
        GeluBackward(KernelRuntime rt) {
            super(rt, "elementwise_vec", "gelu_backward_vec_f32", FastCall.GeluBackward.class, "elementwise/gelu_backward");
        }
        @Override public String inapplicable(FastCall.GeluBackward c) { return notF32(c.x(), c.dy(), c.dx()); }
        @Override public void run(FastCall.GeluBackward c) {
            int n = (int) c.x().numel();
            launch(grid(n / 8 + 1), n, c.x(), c.dy(), c.dx(), c.accumulate() ? 1 : 0);
        }
    }

    // ---- norm_vec.cu: dim (channels) a multiple of 8, 16-byte aligned views ----------------------

    /** One warp per row holds it in registers: dim a multiple of 8, at most 32·8·LN_CPL. */
    static final int LN_MAX_DIM = 1024;

    static String layerNormShape(int dim) {
        if (dim % 8 != 0) return "dim " + dim + " is not a multiple of 8";
        if (dim > LN_MAX_DIM) return "dim " + dim + " exceeds " + LN_MAX_DIM;
        return null;
    }

    static final class LayerNorm extends Vec<FastCall.LayerNorm> {
        LayerNorm(KernelRuntime rt) {
            super(rt, "norm_vec", "layer_norm_forward_vec_f32", FastCall.LayerNorm.class, "norm/layer_norm_forward(_rows)");
        }
        @Override public String inapplicable(FastCall.LayerNorm c) {
            String why = notF32(c.x(), c.y());
            if (why == null) why = layerNormShape(c.d().dim());
            return why != null ? why : unaligned("x", c.x(), "gamma", c.gamma(), "beta", c.beta(), "y", c.y());
        }
        @Override public void run(FastCall.LayerNorm c) {
            int rows = c.d().rows();
            launch(Math.min((rows + 7) / 8, 8L * rt.capabilities().computeUnits()), rows, c.d().dim(), (float) c.d().eps(),
                    c.x(), c.gamma(), c.beta(), c.y(), c.mean(), c.rstd(), c.gamma() != null ? 1 : 0, c.beta() != null ? 1 : 0, 0);
        }
    }

    /**
     * dx in one pass, the parameter gradients as per-chunk partials added up in a fixed order by
     * elementwise.cl's reduce_middle (into dgamma and dbeta, which, as in the portable path, accumulate).
     */
    static class LayerNormBackward extends Vec<FastCall.LayerNormBackward> {
        /** Warps per block of layer_norm_backward_vec (its block must be 32·4 = 128 threads). */
        static final int WARPS = 4;
        private DeviceBuffer partials;

        LayerNormBackward(KernelRuntime rt) {
            this(rt, "layer_norm_backward_vec_f32", "norm/layer_norm_backward_input(_rows) + norm/layer_norm_params_partial",
                    Precision.F32);
        }

        /** The same launches with another flavour's kernel (layer_norm_backward_vec_bf16: {@link Bf16Variants}). */
        LayerNormBackward(KernelRuntime rt, String kernel, String twin, Precision precision) {
            super(rt, "norm_vec", kernel, FastCall.LayerNormBackward.class, twin, precision);
        }

        @Override public String inapplicable(FastCall.LayerNormBackward c) {
            String why = notF32(c.x(), c.dy(), c.dx());
            if (why == null) why = layerNormShape(c.d().dim());
            return why != null ? why : unaligned("x", c.x(), "gamma", c.gamma(), "dy", c.dy(), "dx", c.dx());
        }

        @Override public void run(FastCall.LayerNormBackward c) {
            int rows = c.d().rows(), dim = c.d().dim();
            boolean params = c.dgamma() != null || c.dbeta() != null;
            // about 32 chunks (warps) per SM: enough to hide latency, few partial rows to add up
            int perChunk = (int) Math.max(1, (rows + 32L * rt.capabilities().computeUnits() - 1) / (32L * rt.capabilities().computeUnits()));
            int chunks = (rows + perChunk - 1) / perChunk;
            Tensor pg = null, pb = null;
            if (params) {
                Tensor part = scratch(2L * chunks * dim);
                pg = part.view(0, Shape.of(chunks, dim));
                pb = part.view((long) chunks * dim, Shape.of(chunks, dim));
            }
            launchBlocks(Math.min((chunks + WARPS - 1) / WARPS, 14L * rt.capabilities().computeUnits()), 1, 32 * WARPS,
                    rows, dim, c.x(), c.gamma(), null, c.mean(), c.rstd(), c.dy(), c.dx(), pg, pb,
                    c.gamma() != null ? 1 : 0, 0, 0, c.accumulate() ? 1 : 0, perChunk, params ? 1 : 0);
            if (c.dgamma() != null) sumChunks(chunks, dim, pg, c.dgamma());
            if (c.dbeta() != null) sumChunks(chunks, dim, pb, c.dbeta());
        }

        /** out[j] += Σ_c part[c, j], c in order (the portable reduce_middle). */
        private void sumChunks(int chunks, int dim, Tensor part, Tensor out) {
            rt.launch("elementwise", "reduce_middle", new long[] {(dim + 255L) / 256 * 256}, new long[] {256},
                    1, chunks, dim, 1.0f, part, out, 1);
        }

        /** Partials for the parameter gradients; grows only, so memory settles after the first step. */
        private Tensor scratch(long n) {
            if (partials == null || partials.length() < n) {
                if (partials != null) partials.close();
                partials = rt.device().allocate(DType.F32, n);
            }
            return Tensor.view(partials, 0, Shape.of(Math.toIntExact(n)));
        }

        @Override public void close() {
            if (partials != null) partials.close();
            partials = null;
        }
    }

    /** Instance norm over time: one block per (64 channels, batch), 32 lanes along time. */
    static final int IN_CHANNELS = 64;

    static String instanceNormShape(int batch, int channels) {
        if (channels % 8 != 0) return "channels " + channels + " is not a multiple of 8";
        if (batch > 65535) return "batch " + batch + " exceeds the grid's 65535 blocks in y";
        return null;
    }

    static final class InstanceNorm extends Vec<FastCall.InstanceNorm> {
        InstanceNorm(KernelRuntime rt) {
            super(rt, "norm_vec", "instance_norm_forward_vec_f32", FastCall.InstanceNorm.class, "norm/instance_norm_forward");
        }
        @Override public String inapplicable(FastCall.InstanceNorm c) {
            String why = notF32(c.x(), c.y());
            if (why == null) why = instanceNormShape(c.batch(), c.channels());
            return why != null ? why : unaligned("x", c.x(), "y", c.y());
        }
        @Override public void run(FastCall.InstanceNorm c) {
            launchBlocks((c.channels() + IN_CHANNELS - 1) / IN_CHANNELS, c.batch(), BLOCK, c.batch(), c.time(), c.channels(),
                    (float) c.eps(), c.x(), c.y(), c.mean(), c.rstd());
        }
    }

    static final class InstanceNormBackward extends Vec<FastCall.InstanceNormBackward> {
        InstanceNormBackward(KernelRuntime rt) {
            super(rt, "norm_vec", "instance_norm_backward_vec_f32", FastCall.InstanceNormBackward.class, "norm/instance_norm_backward");
        }
        @Override public String inapplicable(FastCall.InstanceNormBackward c) {
            String why = notF32(c.x(), c.dy(), c.dx());
            if (why == null) why = instanceNormShape(c.batch(), c.channels());
            return why != null ? why : unaligned("x", c.x(), "dy", c.dy(), "dx", c.dx());
        }
        @Override public void run(FastCall.InstanceNormBackward c) {
            launchBlocks((c.channels() + IN_CHANNELS - 1) / IN_CHANNELS, c.batch(), BLOCK, c.batch(), c.time(), c.channels(),
                    c.x(), c.mean(), c.rstd(), c.dy(), c.dx(), c.accumulate() ? 1 : 0);
        }
    }

    // ---- loss_vec.cu: one warp per (row, token) slot; its own partial sums, then reduce.cl's finish_sum ----

    static final class MaskedRegression extends Vec<FastCall.MaskedRegression> {
        private DeviceBuffer partials;

        MaskedRegression(KernelRuntime rt) {
            super(rt, "loss_vec", "masked_regression_vec_f32", FastCall.MaskedRegression.class, "loss/masked_regression + reduce/finish_sum");
        }

        @Override public String inapplicable(FastCall.MaskedRegression c) { return notF32(c.pred(), c.target(), c.dpred()); }

        @Override public void run(FastCall.MaskedRegression c) {
            var d = c.d();
            long slots = (long) d.rows() * d.tokens();
            int groups = (int) Math.max(1, Math.min((slots + 7) / 8, 8L * rt.capabilities().computeUnits()));
            if (partials == null || partials.length() < groups) {
                if (partials != null) partials.close();
                partials = rt.device().allocate(DType.F32, groups);
            }
            Tensor part = Tensor.view(partials, 0, Shape.of(groups));
            double coef = d.scale() / d.normalizer();
            launch(groups, (int) (slots * d.dim()), d.tokens(), d.dim(), d.clones(), c.pred(), c.target(), c.mask(), c.dpred(),
                    c.dpred() != null ? 1 : 0, (float) (2 * coef * c.gradScale()), part);
            rt.launch("reduce", "finish_sum", new long[] {BLOCK}, new long[] {BLOCK}, groups, part, (float) coef, c.loss(), 0);
        }

        @Override public void close() {
            if (partials != null) partials.close();
            partials = null;
        }
    }

    // ---- optim_vec.cu: optim.cl's arithmetic, and the bf16 working copy of bf16 training in the same pass ----

    static final class Adamw extends Vec<FastCall.Adamw> {
        Adamw(KernelRuntime rt) { super(rt, "optim_vec", "adamw_vec", FastCall.Adamw.class, "optim/adamw"); }
        @Override public String inapplicable(FastCall.Adamw c) { return notF32(c.param(), c.grad(), c.m(), c.v()); }
        @Override public void run(FastCall.Adamw c) {
            AdamWDesc d = c.d();
            int n = (int) c.param().numel();
            double stepSize = d.stepSize();
            launch(grid(n / 8 + 1), n, c.param(), c.grad(), c.m(), c.v(), c.working(), (float) d.beta1(), (float) (1 - d.beta1()),
                    (float) d.beta2(), (float) (1 - d.beta2()), (float) d.eps(), (float) (d.lr() * d.weightDecay()), (float) stepSize,
                    c.gradScale(), c.gradScale() != null ? 1 : 0);
        }
    }

    static final class Ema extends Vec<FastCall.Ema> {
        Ema(KernelRuntime rt) { super(rt, "optim_vec", "ema_vec", FastCall.Ema.class, "optim/ema"); }
        @Override public String inapplicable(FastCall.Ema c) { return notF32(c.teacher(), c.student()); }
        @Override public void run(FastCall.Ema c) {
            int n = (int) c.teacher().numel();
            launch(grid(n / 8 + 1), n, c.teacher(), c.student(), c.working(), (float) c.tau(), (float) (1 - c.tau()));
        }
    }
}
