package org.d2v.backend.kernel;

/**
 * What a device can do, as far as the choice of kernel variants cares: each {@link KernelRuntime}
 * fills it from its own queries (OpenCL: CL_DEVICE_TYPE, CL_DEVICE_LOCAL_MEM_SIZE,
 * CL_DEVICE_MAX_WORK_GROUP_SIZE, CL_DEVICE_MAX_COMPUTE_UNITS and a compiled kernel's preferred
 * work-group-size multiple; CUDA: warp size, static shared memory per block, threads per block,
 * SM count), and {@link KernelVariants} decides every variant from it. No API names: an OpenCL GPU
 * and a CUDA GPU with the same resources get the same kernels.
 *
 * @param kind             what sort of processor runs the work-items
 * @param subgroupWidth    work-items that execute in lock step (CUDA's warp, OpenCL's preferred
 *                         work-group-size multiple); 1 where unknown
 * @param localMemoryBytes local (CUDA: shared) memory one work-group may declare
 * @param maxWorkGroupSize most work-items in one work-group
 * @param computeUnits     compute units (CUDA: SMs; a CPU: cores)
 * @param cudaArch         the CUDA compute capability as major·10 + minor (90 for sm_90) where the
 *                         runtime can launch the CUDA-only programs of kernels/*.cu, else 0 (OpenCL
 *                         devices, whatever their vendor): {@link FastVariants} decides by it
 */
public record DeviceCapabilities(Kind kind, int subgroupWidth, long localMemoryBytes, int maxWorkGroupSize,
                                 int computeUnits, int cudaArch) {
    /** CPU: few cores, no fast local memory (barriers are costly); GPU and ACCELERATOR: many lanes in lock step. */
    public enum Kind { CPU, GPU, ACCELERATOR }

    public DeviceCapabilities {
        if (kind == null) throw new IllegalArgumentException("device kind is required");
        if (subgroupWidth < 1 || maxWorkGroupSize < 1 || computeUnits < 1 || localMemoryBytes < 0 || cudaArch < 0) {
            throw new IllegalArgumentException("implausible device capabilities: subgroup " + subgroupWidth
                    + ", local memory " + localMemoryBytes + ", work-group " + maxWorkGroupSize + ", units " + computeUnits
                    + ", CUDA arch " + cudaArch);
        }
    }

    /** A device that runs the portable kernels only (no CUDA-only programs). */
    public DeviceCapabilities(Kind kind, int subgroupWidth, long localMemoryBytes, int maxWorkGroupSize, int computeUnits) {
        this(kind, subgroupWidth, localMemoryBytes, maxWorkGroupSize, computeUnits, 0);
    }

    @Override
    public String toString() {
        return kind + ", " + computeUnits + " units, work-groups up to " + maxWorkGroupSize + ", sub-groups of "
                + subgroupWidth + ", " + localMemoryBytes / 1024 + " KiB local memory" + (cudaArch > 0 ? ", CUDA sm_" + cudaArch : "");
    }
}
