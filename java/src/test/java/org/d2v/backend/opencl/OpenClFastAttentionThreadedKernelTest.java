package org.d2v.backend.opencl;

import org.d2v.backend.kernel.HostThreads;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link OpenClFastAttentionKernelTest} with the host attention split over two threads at every
 * size: forward by (batch, head) pairs, backward by pairs or, with ALiBi, by heads.
 */
@ExtendWith(HostThreads.class)
class OpenClFastAttentionThreadedKernelTest extends OpenClFastAttentionKernelTest {}
