package org.d2v.backend.opencl;

import java.util.Arrays;
import java.util.List;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Philox;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * Fused attention forward and backward on a CPU OpenCL device as host loops compiled for the CPU's
 * vector width (native/cpu/attention.c, {@link OpenBlas#enqueueAttention}), one native kernel each
 * where the portable backward takes three or four launches. Made for d2v's short sequences (5 to 17
 * tokens at image-demo's heads of 24), where the portable row kernels give one work-item a query row
 * of a few dozen multiply-adds and run at 2–3 GFLOP/s. Same math, ALiBi, key padding and dropout
 * stream as kernels/attention.cl; fp32 only; available where {@link OpenBlasGemm} is; self-checked
 * against the portable kernels like every fast variant.
 */
final class NativeAttention {
    private NativeAttention() {}

    static List<FastVariant<?>> all(OpenClRuntime rt) { return List.of(new Forward(rt), new Backward(rt)); }

    private static String notF32(Tensor qkv) {
        return qkv.dtype() == DType.F32 ? null : "fp32 attention only, got " + qkv.dtype();
    }

    private static void enqueue(OpenClRuntime rt, String what, AttentionDesc d, List<Tensor> tensors, boolean backward,
                                boolean accumulate) {
        Tensor[] slots = tensors.toArray(new Tensor[0]);
        NativeOperands o = NativeOperands.of(rt, slots);
        long bytes = NativeOperands.bytes(slots);
        int[] dims = {d.batch(), d.tokens(), d.heads(), d.headDim(), d.alibi() ? 1 : 0, d.keyPadding() ? 1 : 0, accumulate ? 1 : 0,
            backward ? 1 : 0};
        long threshold = Philox.dropThreshold(d.dropout());
        float dropScale = (float) (1.0 / (1.0 - d.dropout()));
        rt.enqueueNative(() -> what, bytes, queue -> OpenBlas.enqueueAttention(queue, o.mems(), o.order(), o.offsets(), dims, (float) d.scale(), threshold,
                dropScale, d.seed(), d.offset()));
    }

    /** qkv and the optional inputs, those the descriptor switches off as absent (never read). */
    private static List<Tensor> inputs(AttentionDesc d, Tensor qkv, Tensor slopes, Tensor scale, Tensor positions, Tensor padding) {
        boolean a = d.alibi();
        return Arrays.asList(qkv, a ? slopes : null, a ? scale : null, a ? positions : null, d.keyPadding() ? padding : null);
    }

    private static final class Forward extends FastVariant<FastCall.Attention> {
        private final OpenClRuntime rt;

        Forward(OpenClRuntime rt) {
            super("native/attention-forward", FastCall.Attention.class, "attention/attention_forward(_rows)", Precision.F32);
            this.rt = rt;
        }

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override public String inapplicable(FastCall.Attention c) { return notF32(c.qkv()); }

        @Override
        public void run(FastCall.Attention c) {
            List<Tensor> ts = new java.util.ArrayList<>(inputs(c.d(), c.qkv(), c.alibiSlopes(), c.alibiScale(), c.positions(), c.keyPadding()));
            ts.addAll(Arrays.asList(c.out(), c.lse()));
            enqueue(rt, "native attention", c.d(), ts, false, false);
        }
    }

    private static final class Backward extends FastVariant<FastCall.AttentionBackward> {
        private final OpenClRuntime rt;

        Backward(OpenClRuntime rt) {
            super("native/attention-backward", FastCall.AttentionBackward.class,
                    "attention/attention_delta + attention_backward_kv(_rows) + attention_backward_q(_rows) + attention_alibi_grad",
                    Precision.F32);
            this.rt = rt;
        }

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override public String inapplicable(FastCall.AttentionBackward c) { return notF32(c.qkv()); }

        @Override
        public void run(FastCall.AttentionBackward c) {
            AttentionDesc d = c.d();
            List<Tensor> ts = new java.util.ArrayList<>(inputs(d, c.qkv(), c.alibiSlopes(), c.alibiScale(), c.positions(), c.keyPadding()));
            ts.addAll(Arrays.asList(c.out(), c.lse(), c.dout(), c.dqkv(), d.alibi() ? c.dAlibiScale() : null));
            enqueue(rt, "native attentionBackward", d, ts, true, c.accumulate());
        }
    }
}
