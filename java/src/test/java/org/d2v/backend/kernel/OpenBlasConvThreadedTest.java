package org.d2v.backend.kernel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link OpenBlasConvTest} with the convolutions' groups split over two host threads at every
 * size (forward, input and weight gradients), against the float64 reference.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenBlasConvThreadedTest extends OpenBlasConvTest {
    private final HostThreads threads = new HostThreads();
    private boolean forced;

    @BeforeAll
    void splitEverything() { forced = threads.force(); }

    @AfterAll
    void configuredPoolBack() { threads.restoreAndCheck(forced); }
}
