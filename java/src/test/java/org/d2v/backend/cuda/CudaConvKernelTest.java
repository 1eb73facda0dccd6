package org.d2v.backend.cuda;

import org.d2v.backend.kernel.ConvKernelTest;
import org.d2v.backend.kernel.KernelVariants;
import org.junit.jupiter.api.extension.ExtendWith;

/** The conv kernel tests on CUDA; skipped with the probe's reason without a GPU. */
@ExtendWith(CudaAvailable.class)
class CudaConvKernelTest extends ConvKernelTest {
    @Override protected String backendName() { return "cuda"; }

    /** The variants the GPU's capabilities choose (the base class forces the CPU shape for OpenCL). */
    @Override protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }
}
