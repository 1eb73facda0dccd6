package org.d2v.backend.opencl;

import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * reduceMiddle (bias gradients, mean pooling) on a CPU OpenCL device as a host loop over whole rows
 * of c sums (libd2v_cpu, {@link OpenBlas#enqueueReduceMiddle}), one native kernel, the columns
 * summed in order as the portable reduce_middle does; PoCL gives each output its own work-item,
 * which at image-demo's sizes (a few hundred outputs) is mostly scheduling. fp32 only; available
 * where {@link OpenBlasGemm} is; self-checked against the portable kernels like every fast variant.
 */
final class NativeReduceMiddle extends FastVariant<FastCall.ReduceMiddle> {
    private final OpenClRuntime rt;

    NativeReduceMiddle(OpenClRuntime rt) {
        super("native/reduce-middle", FastCall.ReduceMiddle.class, "elementwise/reduce_middle(_chunks)", Precision.F32);
        this.rt = rt;
    }

    @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

    @Override public String inapplicable(FastCall.ReduceMiddle c) { return c.x().dtype() == DType.F32 ? null : "fp32 x only, got " + c.x().dtype(); }

    @Override
    public void run(FastCall.ReduceMiddle c) {
        NativeOperands o = NativeOperands.of(rt, c.x(), null, null, c.out(), null);
        rt.enqueueNative(() -> "native reduceMiddle", NativeOperands.bytes(c.x(), c.out()), queue -> OpenBlas.enqueueReduceMiddle(queue, o.mems(),
                o.order(), o.offsets(), c.a(), c.b(), c.c(),
                (float) c.alpha(), c.accumulate()));
    }
}
