package org.d2v.backend.memory;

/**
 * What a runtime gives the {@link CachingAllocator}: whole blocks straight from the driver
 * (clCreateBuffer / cuMemAlloc) and their release (clReleaseMemObject / cuMemFree).
 *
 * @param <H> the driver's handle (cl_mem, CUdeviceptr)
 */
public interface RawMemory<H> {
    /** A new block of exactly {@code bytes}; throws (any RuntimeException, with the driver's reason) when the driver refuses. */
    H allocate(long bytes);

    /** Gives a block back to the driver. */
    void free(H handle);
}
