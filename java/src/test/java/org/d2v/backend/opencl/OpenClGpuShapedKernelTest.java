package org.d2v.backend.opencl;

import org.d2v.backend.kernel.KernelOpsSuite;
import org.d2v.backend.kernel.KernelVariants;

/**
 * The kernel suite on OpenCL with the GPU-shaped kernels forced (tiled gemm, group-per-row layer
 * norm, tiled attention, the local-memory weight-gradient tree): in CI, PoCL runs the very kernels
 * a GPU launches.
 */
class OpenClGpuShapedKernelTest extends KernelOpsSuite {
    @Override protected String backendName() { return "opencl"; }

    @Override protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.GPU; }
}
