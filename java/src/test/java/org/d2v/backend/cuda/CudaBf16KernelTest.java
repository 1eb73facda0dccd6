package org.d2v.backend.cuda;

import org.d2v.backend.kernel.KernelBf16Suite;
import org.junit.jupiter.api.extension.ExtendWith;

/** The bf16 kernel suite on CUDA (the bf16 fatbins); skipped with the probe's reason without a GPU. */
@ExtendWith(CudaAvailable.class)
class CudaBf16KernelTest extends KernelBf16Suite {
    @Override protected String backendName() { return "cuda"; }
}
