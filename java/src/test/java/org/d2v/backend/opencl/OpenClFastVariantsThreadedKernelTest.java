package org.d2v.backend.opencl;

import org.d2v.backend.kernel.HostThreads;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link OpenClFastVariantsKernelTest} (the whole kernel suite, the fp32 GEMMs, normal(), GELU,
 * LayerNorm and reduceMiddle on the host variants) with those split over two threads at every size.
 */
@ExtendWith(HostThreads.class)
class OpenClFastVariantsThreadedKernelTest extends OpenClFastVariantsKernelTest {}
