package org.d2v.backend.cuda;

import org.d2v.backend.kernel.AttentionKernelTest;
import org.junit.jupiter.api.extension.ExtendWith;

/** The attention kernel tests on CUDA; skipped with the probe's reason without a GPU. */
@ExtendWith(CudaAvailable.class)
class CudaAttentionKernelTest extends AttentionKernelTest {
    @Override protected String backendName() { return "cuda"; }
}
