package org.d2v.backend.kernel;

import java.util.List;
import org.d2v.backend.MatmulDesc;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The bf16 fast variants of the CUDA-only kernels (kernels/*.cu), for launches whose activations
 * are BF16: the tensor-core GEMM (gemm_tc, with its bias, GELU and accumulate epilogues; the
 * library path, cuBLASLt, is registered ahead of it by the CUDA device), FlashAttention-2-style
 * attention forward and backward for head sizes 32, 64 and 128 (attention_tc), the grouped
 * convolution's forward, input and weight gradients as implicit GEMMs (conv_tc), and the _bf16
 * flavours of the 16-byte vectorised memory-bound kernels. The launches themselves (kernels,
 * argument lists, grids, sequences, split counts) are {@link TensorCoreLaunches}'; here are their
 * preconditions and scratch. Each is self-checked against its portable twin in bf16 storage, with
 * the bf16 rule of {@link FastVariant.Precision#BF16}. An fp32 call is never theirs.
 *
 * <p>Not registered: masked_regression_vec_bf16 reads a bf16 target, while the op keeps the
 * teacher's targets in fp32 (KernelOps.maskedRegression). adamw_vec and ema_vec are fp32 kernels
 * whatever the activations; their bf16 working copies are written by VecVariants' variants.
 */
final class Bf16Variants {
    private Bf16Variants() {}

    static List<FastVariant<?>> all(KernelRuntime rt) {
        return List.of(new GemmTc(rt), new AttentionTc(rt), new AttentionTcBackward(rt), new ConvTc(rt), new ConvTcBackwardInput(rt),
                new ConvTcBackwardWeight(rt), new Vec<>(rt, "elementwise_vec", "add_vec_bf16", FastCall.Add.class, "elementwise.bf16/add") {
                    @Override public String inapplicable(FastCall.Add c) { return notBf16(c.a(), c.b(), c.out()); }
                    @Override public void run(FastCall.Add c) {
                        int n = (int) c.a().numel();
                        launch(grid(n / 8 + 1), n, c.a(), c.b(), c.out());
                    }
                }, new Vec<>(rt, "elementwise_vec", "axpby_vec_bf16", FastCall.Axpby.class, "elementwise.bf16/axpby") {
                    @Override public String inapplicable(FastCall.Axpby c) { return notBf16(c.x(), c.y()); }
                    @Override public void run(FastCall.Axpby c) {
                        int n = (int) c.x().numel();
                        launch(grid(n / 8 + 1), n, (float) c.alpha(), c.x(), (float) c.beta(), c.y());
                    }
                }, new Vec<>(rt, "elementwise_vec", "gelu_forward_vec_bf16", FastCall.Gelu.class, "elementwise.bf16/gelu_forward") {
                    @Override public String inapplicable(FastCall.Gelu c) { return notBf16(c.x(), c.y()); }
                    @Override public void run(FastCall.Gelu c) {
                        int n = (int) c.x().numel();
                        launch(grid(n / 8 + 1), n, c.x(), c.y());
                    }
                }, new Vec<>(rt, "elementwise_vec", "gelu_backward_vec_bf16", FastCall.GeluBackward.class, "elementwise.bf16/gelu_backward") {
                    @Override public String inapplicable(FastCall.GeluBackward c) { return notBf16(c.x(), c.dy(), c.dx()); }
                    @Override public void run(FastCall.GeluBackward c) {
                        int n = (int) c.x().numel();
                        launch(grid(n / 8 + 1), n, c.x(), c.dy(), c.dx(), c.accumulate() ? 1 : 0);
                    }
                }, new Vec<>(rt, "norm_vec", "layer_norm_forward_vec_bf16", FastCall.LayerNorm.class, "norm.bf16/layer_norm_forward(_rows)") {
                    @Override public String inapplicable(FastCall.LayerNorm c) {
                        String why = notBf16(c.x(), c.y());
                        if (why == null) why = VecVariants.layerNormShape(c.d().dim());
                        if (why == null) why = unaligned8("x", c.x(), "y", c.y());
                        return why != null ? why : VecVariants.unaligned("gamma", c.gamma(), "beta", c.beta());
                    }
                    @Override public void run(FastCall.LayerNorm c) {
                        int rows = c.d().rows();
                        launch(Math.min((rows + 7) / 8, 8L * rt.capabilities().computeUnits()), rows, c.d().dim(), (float) c.d().eps(),
                                c.x(), c.gamma(), c.beta(), c.y(), c.mean(), c.rstd(), c.gamma() != null ? 1 : 0, c.beta() != null ? 1 : 0, 0);
                    }
                }, new VecVariants.LayerNormBackward(rt, "layer_norm_backward_vec_bf16",
                        "norm.bf16/layer_norm_backward_input(_rows) + norm.bf16/layer_norm_params_partial", FastVariant.Precision.BF16) {
                    @Override public String inapplicable(FastCall.LayerNormBackward c) {
                        String why = notBf16(c.x(), c.dy(), c.dx());
                        if (why == null) why = VecVariants.layerNormShape(c.d().dim());
                        if (why == null) why = unaligned8("x", c.x(), "dy", c.dy(), "dx", c.dx());
                        return why != null ? why : VecVariants.unaligned("gamma", c.gamma());
                    }
                }, new Vec<>(rt, "norm_vec", "instance_norm_forward_vec_bf16", FastCall.InstanceNorm.class, "norm.bf16/instance_norm_forward") {
                    @Override public String inapplicable(FastCall.InstanceNorm c) {
                        String why = notBf16(c.x(), c.y());
                        if (why == null) why = VecVariants.instanceNormShape(c.batch(), c.channels());
                        return why != null ? why : unaligned8("x", c.x(), "y", c.y());
                    }
                    @Override public void run(FastCall.InstanceNorm c) {
                        launchBlocks((c.channels() + VecVariants.IN_CHANNELS - 1) / VecVariants.IN_CHANNELS, c.batch(), VecVariants.BLOCK,
                                c.batch(), c.time(), c.channels(), (float) c.eps(), c.x(), c.y(), c.mean(), c.rstd());
                    }
                }, new Vec<>(rt, "norm_vec", "instance_norm_backward_vec_bf16", FastCall.InstanceNormBackward.class,
                        "norm.bf16/instance_norm_backward") {
                    @Override public String inapplicable(FastCall.InstanceNormBackward c) {
                        String why = notBf16(c.x(), c.dy(), c.dx());
                        if (why == null) why = VecVariants.instanceNormShape(c.batch(), c.channels());
                        return why != null ? why : unaligned8("x", c.x(), "dy", c.dy(), "dx", c.dx());
                    }
                    @Override public void run(FastCall.InstanceNormBackward c) {
                        launchBlocks((c.channels() + VecVariants.IN_CHANNELS - 1) / VecVariants.IN_CHANNELS, c.batch(), VecVariants.BLOCK,
                                c.batch(), c.time(), c.channels(), c.x(), c.mean(), c.rstd(), c.dy(), c.dx(), c.accumulate() ? 1 : 0);
                    }
                });
    }

    /** Null when every given activation (null: absent) is BF16, else which is not: these are the bf16 flavours. */
    static String notBf16(Tensor... ts) {
        for (Tensor t : ts) if (t != null && t.dtype() != DType.BF16) return "a " + t.dtype() + " tensor (this is the bf16 flavour)";
        return null;
    }

    /** Null, or which of the named bf16 tensors does not start on a 16-byte boundary (an offset off the multiples of 8). */
    static String unaligned8(Object... namesAndTensors) {
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            Tensor t = (Tensor) namesAndTensors[i + 1];
            if (t != null && t.offset() % 8 != 0) return namesAndTensors[i] + " starts at element " + t.offset() + ", not a multiple of 8";
        }
        return null;
    }

    /** A bf16 memory-bound variant: VecVariants' launch rules, the bf16 precision. */
    abstract static class Vec<C extends FastCall> extends VecVariants.Vec<C> {
        Vec(KernelRuntime rt, String program, String kernel, Class<C> op, String twin) {
            super(rt, program, kernel, op, twin, FastVariant.Precision.BF16);
        }
    }

    /** A tensor-core variant: CUDA-only, sm_80 or newer, the bf16 rule. */
    abstract static class Tc<C extends FastCall> extends FastVariant<C> {
        final KernelRuntime rt;

        Tc(String name, Class<C> op, String twin, KernelRuntime rt) {
            super(name, op, twin, Precision.BF16);
            this.rt = rt;
        }

        @Override public String unavailable() { return VecVariants.cudaOnly(rt); }

        int sms() { return rt.capabilities().computeUnits(); }

        /** Grow-only scratch of {@code n} floats in {@code held[0]} (memory settles after the first step). */
        Tensor scratch(DeviceBuffer[] held, long n) {
            if (held[0] == null || held[0].length() < n) {
                if (held[0] != null) held[0].close();
                held[0] = rt.device().allocate(DType.F32, n);
            }
            return Tensor.view(held[0], 0, Shape.of(Math.toIntExact(n)));
        }
    }

    // ---- gemm_tc ---------------------------------------------------------------------------------

    /** The tensor-core GEMM: bf16 A and B, C (and the pre-activation) bf16 or, for gradients, fp32. */
    static final class GemmTc extends Tc<FastCall.Matmul> {
        GemmTc(KernelRuntime rt) { super("gemm_tc/gemm_tc_{nn,nt,tn}", FastCall.Matmul.class, "gemm.bf16(-f32)/gemm, gemm_dot, gemm_outer", rt); }

        @Override public String inapplicable(FastCall.Matmul c) {
            String why = notBf16(c.a(), c.b());
            if (why != null) return why;
            MatmulDesc d = c.d();
            why = TensorCoreLaunches.gemmShape(d);
            if (why != null) return why;
            if (c.a().offset() % 8 != 0 || c.b().offset() % 8 != 0) return "A or B starts off a multiple of 8 elements";
            if (d.batch() > 1 && (((long) d.m() * d.k()) % 8 != 0 || (!d.broadcastB() && ((long) d.k() * d.n()) % 8 != 0))) {
                return "a batch stride of A or B is not a multiple of 8";
            }
            return null;
        }

        @Override public void run(FastCall.Matmul c) {
            TensorCoreLaunches.gemm(c.d(), c.a(), c.b(), c.bias(), c.c(), c.preact(), c.accumulate(), c.c().dtype() == DType.BF16).on(rt);
        }
    }

    // ---- attention_tc ----------------------------------------------------------------------------

    private static String attentionApplies(org.d2v.backend.AttentionDesc d, Tensor qkv, Tensor out) {
        String why = notBf16(qkv, out);
        if (why == null) why = TensorCoreLaunches.attentionShape(d);
        if (why == null && qkv.offset() % 8 != 0) why = "qkv starts at element " + qkv.offset() + ", not a multiple of 8";
        if (why == null && out.offset() % 2 != 0) why = "out starts at an odd element";
        return why;
    }

    static final class AttentionTc extends Tc<FastCall.Attention> {
        AttentionTc(KernelRuntime rt) { super("attention_tc/attention_tc_forward_d{32,64,128}", FastCall.Attention.class, "attention.bf16/attention_forward(_rows)", rt); }

        @Override public String inapplicable(FastCall.Attention c) { return attentionApplies(c.d(), c.qkv(), c.out()); }

        @Override public void run(FastCall.Attention c) {
            TensorCoreLaunches.attentionForward(c.d(), c.qkv(), c.alibiSlopes(), c.alibiScale(), c.positions(), c.keyPadding(), c.out(), c.lse())
                    .on(rt);
        }
    }

    static final class AttentionTcBackward extends Tc<FastCall.AttentionBackward> {
        AttentionTcBackward(KernelRuntime rt) {
            super("attention_tc/attention_tc_backward_{kv,q}_d{32,64,128}", FastCall.AttentionBackward.class,
                    "attention.bf16/attention_delta, attention_backward_kv, attention_backward_q, attention_alibi_grad", rt);
        }

        @Override public String inapplicable(FastCall.AttentionBackward c) {
            String why = attentionApplies(c.d(), c.qkv(), c.out());
            if (why == null) why = notBf16(c.dout(), c.dqkv());
            if (why == null) why = unaligned8("dout", c.dout(), "dqkv", c.dqkv());
            return why;
        }

        @Override public void run(FastCall.AttentionBackward c) {
            for (TensorCoreLaunches.Launch l : TensorCoreLaunches.attentionBackward(c.d(), c.qkv(), c.alibiSlopes(), c.alibiScale(),
                    c.positions(), c.keyPadding(), c.out(), c.dout(), c.lse(), c.delta(), c.dqkv(), c.dAlibiScale(), c.accumulate(), sms())) {
                l.on(rt);
            }
        }
    }

    // ---- conv_tc ---------------------------------------------------------------------------------

    private static String convApplies(org.d2v.backend.ConvDesc d, Object... namesAndTensors) {
        for (int i = 1; i < namesAndTensors.length; i += 2) {
            String why = notBf16((Tensor) namesAndTensors[i]);
            if (why != null) return namesAndTensors[i - 1] + ": " + why;
        }
        String why = TensorCoreLaunches.convShape(d);
        return why != null ? why : unaligned8(namesAndTensors);
    }

    static final class ConvTc extends Tc<FastCall.Conv> {
        ConvTc(KernelRuntime rt) { super("conv_tc/conv_tc_forward", FastCall.Conv.class, "conv.bf16/conv_forward_tiled", rt); }

        @Override public String inapplicable(FastCall.Conv c) { return convApplies(c.d(), "x", c.x(), "w", c.w(), "y", c.y()); }

        @Override public void run(FastCall.Conv c) { TensorCoreLaunches.convForward(c.d(), c.x(), c.w(), c.bias(), c.y(), true).on(rt); }
    }

    static final class ConvTcBackwardInput extends Tc<FastCall.ConvBackwardInput> {
        ConvTcBackwardInput(KernelRuntime rt) {
            super("conv_tc/conv_tc_backward_input", FastCall.ConvBackwardInput.class, "conv.bf16/conv_backward_input_tiled", rt);
        }

        @Override public String inapplicable(FastCall.ConvBackwardInput c) { return convApplies(c.d(), "dy", c.dy(), "w", c.w(), "dx", c.dx()); }

        @Override public void run(FastCall.ConvBackwardInput c) {
            TensorCoreLaunches.convBackwardInput(c.d(), c.dy(), c.w(), c.dx(), c.accumulate(), true).on(rt);
        }
    }

    /** The weight gradient split over pixels into a workspace reduced in split order; the bias gradient in pixel chunks likewise. */
    static final class ConvTcBackwardWeight extends Tc<FastCall.ConvBackwardWeight> {
        private final DeviceBuffer[] workspace = new DeviceBuffer[1], partials = new DeviceBuffer[1];

        ConvTcBackwardWeight(KernelRuntime rt) {
            super("conv_tc/conv_tc_backward_weight", FastCall.ConvBackwardWeight.class,
                    "conv.bf16/conv_backward_weight(_tiled) + conv_backward_bias", rt);
        }

        @Override public String inapplicable(FastCall.ConvBackwardWeight c) { return convApplies(c.d(), "x", c.x(), "dy", c.dy()); }

        @Override public void run(FastCall.ConvBackwardWeight c) {
            org.d2v.backend.ConvDesc d = c.d();
            int splits = TensorCoreLaunches.weightSplits(d, sms());
            Tensor ws = scratch(workspace, splits * TensorCoreLaunches.weightCount(d));
            Tensor part = null;
            int perChunk = TensorCoreLaunches.biasPixelsPerChunk(d, sms());
            if (c.dbias() != null) {
                long pixels = (long) d.batch() * d.outH() * d.outW();
                part = scratch(partials, (pixels + perChunk - 1) / perChunk * d.outC());
            }
            for (TensorCoreLaunches.Launch l : TensorCoreLaunches.convBackwardWeight(d, c.x(), c.dy(), ws, c.dw(), splits, part, c.dbias(),
                    perChunk, sms())) {
                l.on(rt);
            }
        }

        @Override public void close() {
            for (DeviceBuffer[] held : List.of(workspace, partials)) {
                if (held[0] != null) held[0].close();
                held[0] = null;
            }
        }
    }
}
