package org.d2v.backend.kernel;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link OpenBlasConvTest} with the convolutions' groups split over two host threads at every
 * size (forward, input and weight gradients), against the float64 reference.
 */
@ExtendWith(HostThreads.class)
class OpenBlasConvThreadedTest extends OpenBlasConvTest {}
