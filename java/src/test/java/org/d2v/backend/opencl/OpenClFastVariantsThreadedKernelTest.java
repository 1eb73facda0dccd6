package org.d2v.backend.opencl;

import org.d2v.backend.kernel.HostThreads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link OpenClFastVariantsKernelTest} (the whole kernel suite, the fp32 GEMMs, normal(), GELU,
 * LayerNorm and reduceMiddle on the host variants) with those split over two threads at every size.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClFastVariantsThreadedKernelTest extends OpenClFastVariantsKernelTest {
    private final HostThreads threads = new HostThreads();
    private boolean forced;

    @BeforeAll
    void splitEverything() { forced = threads.force(); }

    @AfterAll
    void configuredPoolBack() { threads.restoreAndCheck(forced); }
}
