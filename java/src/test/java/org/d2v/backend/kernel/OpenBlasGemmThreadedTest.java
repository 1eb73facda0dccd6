package org.d2v.backend.kernel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link OpenBlasGemmTest} with the GEMMs split over two host threads at every size (blocks of
 * rows or columns, or batch entries), against the float64 reference; the variant's self-check
 * (against the portable GEMM) runs split too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenBlasGemmThreadedTest extends OpenBlasGemmTest {
    private final HostThreads threads = new HostThreads();
    private boolean forced;

    @BeforeAll
    void splitEverything() { forced = threads.force(); }

    @AfterAll
    void configuredPoolBack() { threads.restoreAndCheck(forced); }
}
