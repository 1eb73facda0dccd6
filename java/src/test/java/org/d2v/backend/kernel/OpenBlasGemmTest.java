package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link GemmVariantTest}'s cases (every layout at tile edges, every epilogue, batching and
 * broadcast B, the tiny model's shapes; outputs start as NaN) on the OpenCL device as a user gets
 * it: kernel shape and fast variants by capability, so on PoCL with OpenBLAS installed every fp32
 * matmul runs through {@code openblas/sgemm}, against the float64 reference. The variant must be
 * active afterwards (its self-check passed and it served the calls). Where OpenBLAS is absent the
 * class skips, except in CI (CI=true, where make test installs it), where that fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenBlasGemmTest extends GemmVariantTest {
    static final String VARIANT = "openblas/sgemm";

    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }

    @BeforeAll
    void requireTheVariant() {
        FastVariants.Status s = ((KernelOps) dev.ops()).fast().status(VARIANT);
        if (s.state() == FastVariants.State.UNAVAILABLE) {
            if ("true".equals(System.getenv("CI"))) fail(VARIANT + " must run in CI but is unavailable: " + s.reason());
            Assumptions.abort(VARIANT + " unavailable: " + s.reason());
        }
    }

    @AfterAll
    void theVariantServedTheCalls() {
        FastVariants fast = ((KernelOps) dev.ops()).fast();
        assertEquals(FastVariants.State.ACTIVE, fast.status(VARIANT).state(), fast.status(VARIANT).describe());
    }
}
