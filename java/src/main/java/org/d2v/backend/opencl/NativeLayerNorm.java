package org.d2v.backend.opencl;

import java.util.Arrays;
import java.util.List;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.Tensor;

/**
 * LayerNorm and its backward on a CPU OpenCL device as host loops compiled for the CPU's vector
 * width (libd2v_cpu, {@link OpenBlas#enqueueLayerNorm}), one native kernel each where the
 * portable backward takes three launches (input gradient, parameter partials, their column sums).
 * Sums run in 16 lanes added in a fixed tree (deterministic); fp32 only; available where
 * {@link OpenBlasGemm} is; self-checked against the portable kernels like every fast variant.
 */
final class NativeLayerNorm {
    private NativeLayerNorm() {}

    static List<FastVariant<?>> all(OpenClRuntime rt) { return List.of(new Forward(rt), new Backward(rt)); }

    private static void enqueue(OpenClRuntime rt, String what, List<Tensor> tensors, int rows, int dim, double eps, boolean backward,
                                boolean accumulate) {
        Tensor[] slots = tensors.toArray(new Tensor[0]);
        NativeOperands o = NativeOperands.of(rt, slots);
        long bytes = NativeOperands.bytes(slots);
        rt.enqueueNative(() -> what, bytes, queue -> OpenBlas.enqueueLayerNorm(queue, o.mems(), o.order(), o.offsets(), rows, dim, (float) eps, backward,
                accumulate));
    }

    private static final class Forward extends FastVariant<FastCall.LayerNorm> {
        private final OpenClRuntime rt;

        Forward(OpenClRuntime rt) {
            super("native/layer-norm-forward", FastCall.LayerNorm.class, "norm/layer_norm_forward(_rows)", Precision.F32);
            this.rt = rt;
        }

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override public String inapplicable(FastCall.LayerNorm c) { return NativeOperands.notF32(c.x(), c.gamma(), c.beta(), c.y(), c.mean(), c.rstd()); }

        @Override
        public void run(FastCall.LayerNorm c) {
            enqueue(rt, "native layerNorm", Arrays.asList(c.x(), c.gamma(), c.beta(), c.y(), c.mean(), c.rstd()), c.d().rows(),
                    c.d().dim(), c.d().eps(), false, false);
        }
    }

    private static final class Backward extends FastVariant<FastCall.LayerNormBackward> {
        private final OpenClRuntime rt;

        Backward(OpenClRuntime rt) {
            super("native/layer-norm-backward", FastCall.LayerNormBackward.class,
                    "norm/layer_norm_backward_input(_rows) + norm/layer_norm_params_partial + reduce_middle", Precision.F32);
            this.rt = rt;
        }

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override
        public String inapplicable(FastCall.LayerNormBackward c) {
            return NativeOperands.notF32(c.x(), c.gamma(), c.mean(), c.rstd(), c.dy(), c.dx(), c.dgamma(), c.dbeta());
        }

        @Override
        public void run(FastCall.LayerNormBackward c) {
            enqueue(rt, "native layerNormBackward", Arrays.asList(c.x(), c.gamma(), c.mean(), c.rstd(), c.dy(), c.dx(), c.dgamma(),
                    c.dbeta()), c.d().rows(), c.d().dim(), c.d().eps(), true, c.accumulate());
        }
    }
}
