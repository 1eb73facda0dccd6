package org.d2v.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.d2v.backend.kernel.AttentionKernelTest;
import org.d2v.backend.kernel.FastVariants;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.kernel.KernelVariants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;

/**
 * The attention suite (every case of {@link AttentionKernelTest}: ALiBi, key padding, dropout, a
 * sample with every key padded, accumulation, 5 to 999 tokens) on OpenCL as a user's device runs
 * it, so on PoCL with libd2v_cpu the fp32 cases go through {@link NativeAttention}, against the
 * float64 reference; the host variants must have passed their self-check and stayed active.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClFastAttentionKernelTest extends AttentionKernelTest {
    static final List<String> HOST_VARIANTS = List.of("native/attention-forward", "native/attention-backward");

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
