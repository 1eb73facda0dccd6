package org.d2v.backend.cuda;

import org.d2v.backend.kernel.KernelOpsSuite;
import org.junit.jupiter.api.extension.ExtendWith;

/** The whole reference-vs-kernel suite on CUDA; skipped with the probe's reason without a GPU. */
@ExtendWith(CudaAvailable.class)
class CudaKernelTest extends KernelOpsSuite {
    @Override protected String backendName() { return "cuda"; }
}
