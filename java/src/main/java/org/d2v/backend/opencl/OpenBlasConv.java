package org.d2v.backend.opencl;

import java.util.List;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.Tensor;

/**
 * The three passes of the grouped channels-last convolution on a CPU OpenCL device as GEMMs of a
 * CPU BLAS over im2col columns ({@link OpenBlas#enqueueConv}), one native kernel each, queued in
 * order with the device's kernels. The portable conv kernels reach 1–15 GFLOP/s on PoCL, worst on
 * the image patch embedding (one input channel, stride = kernel), which as a GEMM is 49 taps
 * deep. Available where {@link OpenBlasGemm} is; fp32 only; self-checked against the portable
 * kernels like every fast variant.
 */
final class OpenBlasConv {
    private OpenBlasConv() {}

    /** Forward, input gradient and weight gradient, on {@code rt}'s device. */
    static List<FastVariant<?>> all(OpenClRuntime rt) {
        return List.of(
                new Pass<FastCall.Conv>("openblas/conv-forward", FastCall.Conv.class, "conv/conv_forward_tiled", rt) {
                    @Override List<Tensor> tensors(FastCall.Conv c) { return java.util.Arrays.asList(c.x(), c.w(), c.bias(), c.y()); }

                    @Override void enqueue(FastCall.Conv c) {
                        run(c.d(), OpenBlas.ConvPass.FORWARD, false, c.x(), c.w(), c.bias(), c.y());
                    }
                },
                new Pass<FastCall.ConvBackwardInput>("openblas/conv-backward-input", FastCall.ConvBackwardInput.class,
                        "conv/conv_backward_input_tiled", rt) {
                    @Override List<Tensor> tensors(FastCall.ConvBackwardInput c) { return java.util.Arrays.asList(c.dy(), c.w(), c.dx()); }

                    @Override void enqueue(FastCall.ConvBackwardInput c) {
                        run(c.d(), OpenBlas.ConvPass.BACKWARD_INPUT, c.accumulate(), c.dy(), c.w(), null, c.dx());
                    }
                },
                new Pass<FastCall.ConvBackwardWeight>("openblas/conv-backward-weight", FastCall.ConvBackwardWeight.class,
                        "conv/conv_backward_weight(_tiled) + conv/conv_backward_bias", rt) {
                    @Override List<Tensor> tensors(FastCall.ConvBackwardWeight c) {
                        return java.util.Arrays.asList(c.x(), c.dy(), c.dw(), c.dbias());
                    }

                    @Override void enqueue(FastCall.ConvBackwardWeight c) {
                        run(c.d(), OpenBlas.ConvPass.BACKWARD_WEIGHT, true, c.x(), c.dy(), c.dbias(), c.dw());
                    }
                });
    }

    private abstract static class Pass<C extends FastCall> extends FastVariant<C> {
        private final OpenClRuntime rt;

        Pass(String name, Class<C> op, String twin, OpenClRuntime rt) {
            super(name, op, twin, Precision.F32);
            this.rt = rt;
        }

        abstract List<Tensor> tensors(C call);

        abstract void enqueue(C call);

        @Override public String unavailable() { return OpenBlasGemm.unavailableOn(rt); }

        @Override
        public String inapplicable(C call) {
            return NativeOperands.notF32(tensors(call).toArray(new Tensor[0]));
        }

        @Override public void run(C call) { enqueue(call); }

        /** a, b, bias, out: the operands of {@link OpenBlas#enqueueConv}'s pass. */
        void run(ConvDesc d, OpenBlas.ConvPass pass, boolean accumulate, Tensor a, Tensor b, Tensor bias, Tensor out) {
            NativeOperands o = NativeOperands.of(rt, a, b, bias, out, null);
            long bytes = 4 * (a.numel() + b.numel() + 2 * out.numel());
            rt.enqueueNative(() -> "openblas conv " + pass + " " + d, bytes, queue -> OpenBlas.enqueueConv(queue, pass, o.mems(), o.order(), o.offsets(),
                    d.batch(), d.inC(), d.outC(), d.inH(), d.inW(), d.kH(), d.kW(), d.strideH(), d.strideW(), d.padH(), d.padW(),
                    d.groups(), accumulate));
        }
    }
}
