package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link ConvKernelTest}'s cases (the models' stems, patch embeddings and grouped, padded decoder
 * convolutions at reduced sizes; forward, input gradient assigned and accumulated, weight and bias
 * gradients accumulated; outputs poisoned with NaN) on the OpenCL device as a user gets it, so on
 * PoCL with OpenBLAS every fp32 convolution pass runs through the openblas/conv-* variants,
 * against the float64 reference. They must be active afterwards. Without OpenBLAS the class skips,
 * except in CI, where that fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenBlasConvTest extends ConvKernelTest {
    static final String[] VARIANTS = {"openblas/conv-forward", "openblas/conv-backward-input", "openblas/conv-backward-weight"};

    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }

    @BeforeAll
    void requireTheVariants() {
        FastVariants.Status s = ((KernelOps) dev.ops()).fast().status(VARIANTS[0]);
        if (s.state() == FastVariants.State.UNAVAILABLE) {
            if ("true".equals(System.getenv("CI"))) fail(VARIANTS[0] + " must run in CI but is unavailable: " + s.reason());
            Assumptions.abort(VARIANTS[0] + " unavailable: " + s.reason());
        }
    }

    @AfterAll
    void theVariantsServedTheCalls() {
        FastVariants fast = ((KernelOps) dev.ops()).fast();
        for (String v : VARIANTS) assertEquals(FastVariants.State.ACTIVE, fast.status(v).state(), fast.status(v).describe());
    }
}
