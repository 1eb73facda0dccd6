package org.d2v.backend.opencl;

import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.DType;

/**
 * normal() on a CPU OpenCL device as a host loop compiled for the CPU's vector width (libd2v_cpu,
 * {@link OpenBlas#enqueueNormal}), one native kernel, queued in order: the same Philox stream and
 * Box–Muller in float as kernels/random.cl, with branch-free log and cospi polynomials (about 1 ulp
 * from the library functions). PoCL ran the portable kernel at ~100 ns a block, the decoder's
 * noise being one of the largest single ops of the image step (bench/results/profile-before.md).
 * fp32 only; available where {@link OpenBlasGemm} is (the same library); self-checked against the
 * portable kernel like every fast variant.
 */
final class NativeNormal extends FastVariant<FastCall.Normal> {
    private final OpenClRuntime rt;

    NativeNormal(OpenClRuntime rt) {
        super("native/normal", FastCall.Normal.class, "random/normal", Precision.F32);
        this.rt = rt;
    }

    @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

    @Override
    public String inapplicable(FastCall.Normal c) { return c.out().dtype() == DType.F32 ? null : "fp32 output only, got " + c.out().dtype(); }

    @Override
    public void run(FastCall.Normal c) {
        NativeOperands o = NativeOperands.of(rt, null, null, null, c.out(), null);
        rt.enqueueNative(() -> "native normal", NativeOperands.bytes(c.out()), queue -> OpenBlas.enqueueNormal(queue, o.mems(), o.order(), o.offsets(),
                c.out().numel(), (float) c.mean(), (float) c.std(), c.seed(), c.offset()));
    }
}
