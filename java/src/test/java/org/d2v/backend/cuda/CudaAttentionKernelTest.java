package org.d2v.backend.cuda;

import org.d2v.backend.kernel.AttentionKernelTest;
import org.d2v.backend.kernel.KernelVariants;
import org.junit.jupiter.api.extension.ExtendWith;

/** The attention kernel tests on CUDA; skipped with the probe's reason without a GPU. */
@ExtendWith(CudaAvailable.class)
class CudaAttentionKernelTest extends AttentionKernelTest {
    @Override protected String backendName() { return "cuda"; }

    /** The variants the GPU's capabilities choose (the base class forces the CPU shape for OpenCL). */
    @Override protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }
}
