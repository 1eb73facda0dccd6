package org.d2v.backend.opencl;

import org.d2v.backend.kernel.KernelBf16Suite;
import org.d2v.backend.kernel.KernelVariants;

/** The bf16 kernel suite on OpenCL (PoCL in CI) with the CPU-shaped kernels. */
class OpenClBf16KernelTest extends KernelBf16Suite {
    @Override protected String backendName() { return "opencl"; }

    @Override protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }
}
