package org.d2v.backend.opencl;

import org.d2v.backend.kernel.KernelOpsSuite;

/** The kernel suite on OpenCL (PoCL on the CPU in CI). */
class OpenClKernelTest extends KernelOpsSuite {
    @Override protected String backendName() { return "opencl"; }
}
