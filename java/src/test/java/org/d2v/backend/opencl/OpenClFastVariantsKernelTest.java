package org.d2v.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.d2v.backend.kernel.FastVariants;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.kernel.KernelOpsSuite;
import org.d2v.backend.kernel.KernelVariants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole kernel suite on OpenCL as a user's device runs it: shape and fast variants chosen by
 * capability, so on PoCL with libd2v_cpu and OpenBLAS the fp32 GEMMs, convolutions, normal(), dropout, GELU,
 * LayerNorm, reduceMiddle and AdamW go through the host-side variants (OpenBlasGemm, OpenBlasConv, NativeNormal, NativeDropout, NativeGelu,
 * NativeLayerNorm, NativeReduceMiddle, NativeAdamw), against the float64
 * reference. Every such variant that is available must have passed its self-check and stayed
 * active ({@link OpenClKernelTest} runs the portable kernels alone).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClFastVariantsKernelTest extends KernelOpsSuite {
    /** The host-side variants of the ops this suite calls (the convolutions are OpenBlasConvTest's). */
    static final List<String> HOST_VARIANTS = List.of(OpenBlasGemm.NAME, "native/normal", "native/dropout", "native/gelu-forward", "native/gelu-backward",
            "native/layer-norm-forward", "native/layer-norm-backward", "native/reduce-middle", "native/adamw");

    @Override protected String backendName() { return "opencl"; }

    @Override protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }

    @AfterAll
    void hostVariantsStayedActive() {
        FastVariants fast = ((KernelOps) dev.ops()).fast();
        for (String v : HOST_VARIANTS) {
            FastVariants.Status s = fast.status(v);
            if (s.state() == FastVariants.State.UNAVAILABLE && !"true".equals(System.getenv("CI"))) continue; // no OpenBLAS here
            assertEquals(FastVariants.State.ACTIVE, s.state(), s.describe());
        }
    }
}
