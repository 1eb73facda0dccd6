package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Random;
import java.util.Set;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.cuda.EmulatedGpu;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.kernel.KernelVariants;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.MaskBatch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A whole bf16 training step where the bf16 fast variants serve, without a GPU: image-tiny (head
 * size 32, a grouped 3x3 decoder conv of 16 channels per group, LayerNorm dim 128) on the emulated
 * sm_90 GPU, where the tensor-core GEMM, attention and conv and the _bf16 memory-bound kernels take
 * the model's real tensors (views, offsets, accumulations), against the same bf16 step on PoCL's
 * portable kernels. The rule of the cross-backend bf16 test (Data2VecPrecisionTest): the two bf16
 * steps' gradients agree within twice bf16's own rounding on this step (bf16 vs fp32 on PoCL),
 * their losses within that or one bf16 ulp.
 */
class Data2VecEmulatedGpuBf16Test {
    @Test
    void imageTinyBf16StepOnTheEmulatedGpuAgreesWithPortableBf16() {
        String why = EmulatedGpu.unavailableReason();
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) fail(why);
            Assumptions.abort(why);
        }
        Data2VecConfig cfg = Presets.imageTiny();
        try (Device pocl = KernelTestBase.openOrSkip("opencl", KernelVariants.Shape.CPU); EmulatedGpu gpu = new EmulatedGpu();
             Data2Vec p32 = new Data2Vec(pocl, cfg, Precision.FP32); Data2Vec p16 = new Data2Vec(pocl, cfg, Precision.BF16);
             Data2Vec g16 = new Data2Vec(gpu, cfg, Precision.BF16)) {
            Batch batch = TinyData.batch(cfg, new Random(3));
            MaskBatch masks = p16.masker().sample(batch.size() * cfg.clones(), p16.tokens(batch), new RandomStream(5));
            long t0 = System.nanoTime();
            Data2VecPrecisionTest.Step g = Data2VecPrecisionTest.step(g16, batch, masks);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Data2VecPrecisionTest.Step b = Data2VecPrecisionTest.step(p16, batch, masks), f = Data2VecPrecisionTest.step(p32, batch, masks);
            double cross = Data2VecPrecisionTest.relErr(b.grads(), g.grads()), noise = Data2VecPrecisionTest.relErr(f.grads(), b.grads());
            double crossLoss = Math.abs(g.loss() - b.loss()) / Math.abs(b.loss()), noiseLoss = Math.abs(b.loss() - f.loss()) / Math.abs(f.loss());
            Set<String> launched = gpu.launchChecks().launched();
            System.out.printf("image-tiny bf16 step on the emulated GPU (%.1f s, %d kernels) vs portable bf16 on PoCL: loss rel %.2e, "
                    + "gradients rel %.3e; bf16 vs fp32 on PoCL: loss rel %.2e, gradients rel %.3e%n", seconds, launched.size(), crossLoss,
                    cross, noiseLoss, noise);
            System.out.println("kernels launched: " + launched);
            for (String kernel : List.of("gemm_tc/gemm_tc_nt", "gemm_tc/gemm_tc_tn", "attention_tc/attention_tc_forward_d32",
                    "attention_tc/attention_tc_backward_kv_d32", "conv_tc/conv_tc_forward", "conv_tc/conv_tc_backward_weight",
                    "norm_vec/layer_norm_forward_vec_bf16")) {
                assertTrue(launched.contains(kernel), kernel + " did not serve the step: " + launched);
            }
            assertTrue(noise > 0, "bf16 and fp32 gave identical gradients: bf16 did not run");
            assertTrue(cross <= 2 * noise, "bf16 gradients of the fast variants differ from the portable bf16 step's by " + cross
                    + ", more than twice bf16's own rounding on this step (" + noise + ")");
            assertTrue(crossLoss <= Math.max(2 * noiseLoss, 0x1p-8), "bf16 loss differs by " + crossLoss);
        }
    }
}
