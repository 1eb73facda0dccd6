package org.d2v.backend.opencl;

import org.d2v.backend.Philox;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.DType;

/**
 * dropout and its backward on a CPU OpenCL device as a host loop split over libd2v_cpu's pool
 * ({@link OpenBlas#enqueueDropout}), one native kernel, queued in order: the same Philox stream and
 * threshold as kernels/random.cl, so the mask is bit for bit the portable kernel's. PoCL ran the
 * portable kernel at ~9 % of a text-tiny or audio-tiny step (bench/results/profile-cpu-twins.md).
 * fp32 only; available where {@link OpenBlasGemm} is; self-checked against the portable kernel.
 */
final class NativeDropout extends FastVariant<FastCall.Dropout> {
    private final OpenClRuntime rt;

    NativeDropout(OpenClRuntime rt) {
        super("native/dropout", FastCall.Dropout.class, "random/dropout", Precision.F32);
        this.rt = rt;
    }

    @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

    @Override
    public String inapplicable(FastCall.Dropout c) {
        return c.x().dtype() == DType.F32 && c.y().dtype() == DType.F32 ? null : "fp32 only, got " + c.x().dtype() + " → " + c.y().dtype();
    }

    @Override
    public void run(FastCall.Dropout c) {
        NativeOperands o = NativeOperands.of(rt, c.x(), null, null, c.y(), null);
        int threshold = (int) Philox.dropThreshold(c.p());
        rt.enqueueNative(() -> "native dropout", NativeOperands.bytes(c.x(), c.y()), queue -> OpenBlas.enqueueDropout(queue, o.mems(),
                o.order(), o.offsets(), c.x().numel(), threshold, (float) (1 / (1 - c.p())), c.seed(), c.offset(), c.accumulate()));
    }
}
