package org.d2v.backend.opencl;

import java.util.List;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.Tensor;

/**
 * GELU and its gradient on a CPU OpenCL device as host loops compiled for the CPU's vector width
 * (libd2v_cpu, {@link OpenBlas#enqueueGelu}), one native kernel each, queued in order. PoCL
 * compiles the portable kernels' exp to one library call per element, so the gradient ran at
 * about 20 ns an element there (bench/results/profile-before.md: "gelu (unfused)"). The same
 * exact erf form as kernels/d2v.h; fp32 only; available where {@link OpenBlasGemm} is (the same
 * library), and self-checked like every fast variant.
 */
final class NativeGelu {
    private NativeGelu() {}

    static List<FastVariant<?>> all(OpenClRuntime rt) {
        return List.of(new Forward(rt), new Backward(rt));
    }

    private static void enqueue(OpenClRuntime rt, String what, Tensor x, Tensor dy, Tensor out, boolean backward, boolean accumulate) {
        NativeOperands o = NativeOperands.of(rt, x, dy, null, out, null);
        rt.enqueueNative(() -> what, NativeOperands.bytes(x, dy, out),
                queue -> OpenBlas.enqueueGelu(queue, o.mems(), o.order(), o.offsets(), x.numel(), backward, accumulate));
    }

    private static final class Forward extends FastVariant<FastCall.Gelu> {
        private final OpenClRuntime rt;

        Forward(OpenClRuntime rt) {
            super("native/gelu-forward", FastCall.Gelu.class, "elementwise/gelu_forward", Precision.F32);
            this.rt = rt;
        }

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override public String inapplicable(FastCall.Gelu c) { return NativeOperands.notF32(c.x(), c.y()); }

        @Override public void run(FastCall.Gelu c) { enqueue(rt, "native gelu", c.x(), null, c.y(), false, false); }
    }

    private static final class Backward extends FastVariant<FastCall.GeluBackward> {
        private final OpenClRuntime rt;

        Backward(OpenClRuntime rt) {
            super("native/gelu-backward", FastCall.GeluBackward.class, "elementwise/gelu_backward", Precision.F32);
            this.rt = rt;
        }

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override public String inapplicable(FastCall.GeluBackward c) { return NativeOperands.notF32(c.x(), c.dy(), c.dx()); }

        @Override
        public void run(FastCall.GeluBackward c) { enqueue(rt, "native gelu backward", c.x(), c.dy(), c.dx(), true, c.accumulate()); }
    }
}
