package org.d2v.backend.opencl;

import org.d2v.backend.kernel.KernelOpsSuite;
import org.d2v.backend.kernel.KernelVariants;

/** The kernel suite on OpenCL (PoCL on the CPU in CI) with the CPU-shaped kernels. */
class OpenClKernelTest extends KernelOpsSuite {
    @Override protected String backendName() { return "opencl"; }

    @Override protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }
}
