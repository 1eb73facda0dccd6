package org.d2v.backend.opencl;

import org.d2v.backend.AdamWDesc;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;

/**
 * AdamW on a CPU OpenCL device as a host loop split over libd2v_cpu's pool
 * ({@link OpenBlas#enqueueAdamw}), one native kernel per parameter group, queued in order, the
 * clip factor read from its device scalar as the portable kernel does: 0.15 ns a parameter where
 * PoCL runs the portable one at 0.6 (8 on an AMD Zen CPU before absent operands stopped being null
 * pointers: bench/results/profile-zen4.md). fp32 masters without a bf16 working copy (what a CPU
 * trains); available where
 * {@link OpenBlasGemm} is; self-checked against the portable kernel.
 */
final class NativeAdamw extends FastVariant<FastCall.Adamw> {
    private final OpenClRuntime rt;

    NativeAdamw(OpenClRuntime rt) {
        super("native/adamw", FastCall.Adamw.class, "optim/adamw", Precision.F32);
        this.rt = rt;
    }

    @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

    @Override
    public String inapplicable(FastCall.Adamw c) {
        if (c.working() != null) return "no bf16 working copy (the portable kernel writes it)";
        return NativeOperands.notF32(c.param(), c.grad(), c.m(), c.v(), c.gradScale());
    }

    @Override
    public void run(FastCall.Adamw c) {
        AdamWDesc d = c.d();
        NativeOperands o = NativeOperands.of(rt, c.param(), c.grad(), c.m(), c.v(), c.gradScale());
        float[] hyper = {(float) d.beta1(), (float) (1 - d.beta1()), (float) d.beta2(), (float) (1 - d.beta2()), (float) d.eps(),
                (float) (d.lr() * d.weightDecay()), (float) d.stepSize()};
        rt.enqueueNative(() -> "native adamw", NativeOperands.bytes(c.param(), c.grad(), c.m(), c.v()),
                queue -> OpenBlas.enqueueAdamw(queue, o.mems(), o.order(), o.offsets(), c.param().numel(), hyper));
    }
}
