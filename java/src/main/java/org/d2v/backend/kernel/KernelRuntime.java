package org.d2v.backend.kernel;

import org.d2v.backend.Device;
import org.d2v.tensor.DeviceBuffer;

/**
 * What a GPU API must provide so that {@link KernelOps} can run the whole op set on it: memory,
 * a compiler with a cache, and a launcher (tinygrad's split). One small class per API:
 * OpenCL (JOCL) and CUDA (JCuda).
 *
 * <p>Kernels are found by program and name: program "gemm" is the portable source
 * {@code kernels/gemm.cl} (OpenCL compiles it at run time; CUDA loads it from the nvcc fatbin).
 *
 * <p>Launch arguments, in order, map to kernel parameters as follows:
 * <ul>
 *   <li>{@link org.d2v.tensor.Tensor}: two parameters, the buffer pointer and an {@code int}
 *       element offset (OpenCL cannot offset a pointer on the host side);</li>
 *   <li>{@code null} where a tensor is optional: a null pointer and offset 0;</li>
 *   <li>{@link Integer}: {@code int}; {@link Long}: 64-bit {@code long} ({@code I64} in the
 *       dialect); {@link Float}: {@code float}. (Pass doubles as Float: kernels compute in F32.)</li>
 * </ul>
 * Sizes are OpenCL-style: {@code global[i]} work items in dimension i (a multiple of
 * {@code local[i]}); CUDA launches global/local blocks of local threads.
 */
public interface KernelRuntime extends AutoCloseable {
    /** The device this runtime allocates on (its buffers report it). */
    Device device();

    /** e.g. "opencl", "cuda". */
    String api();

    /** What the device can do: {@link KernelVariants} chooses every kernel variant from it. */
    DeviceCapabilities capabilities();

    /** Most work-items in one work-group of this device. */
    default int maxWorkGroupSize() { return capabilities().maxWorkGroupSize(); }

    /**
     * Queues {@code program/kernel} over {@code global} work-items in groups of {@code local}. The
     * arguments are checked against the kernel's declaration first ({@link LaunchChecks}).
     */
    void launch(String program, String kernel, long[] global, long[] local, Object... args);

    /** The signature check, launch record and sync-debug mode of this runtime. */
    LaunchChecks launchChecks();

    /** Waits for every launch so far. */
    void synchronize();

    /** Frees a buffer allocated through the device. */
    void free(DeviceBuffer buffer);

    @Override void close();
}
