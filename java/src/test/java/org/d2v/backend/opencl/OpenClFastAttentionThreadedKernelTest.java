package org.d2v.backend.opencl;

import org.d2v.backend.kernel.HostThreads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link OpenClFastAttentionKernelTest} with the host attention split over two threads at every
 * size: forward by (batch, head) pairs, backward by pairs or, with ALiBi, by heads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClFastAttentionThreadedKernelTest extends OpenClFastAttentionKernelTest {
    private final HostThreads threads = new HostThreads();
    private boolean forced;

    @BeforeAll
    void splitEverything() { forced = threads.force(); }

    @AfterAll
    void configuredPoolBack() { threads.restoreAndCheck(forced); }
}
