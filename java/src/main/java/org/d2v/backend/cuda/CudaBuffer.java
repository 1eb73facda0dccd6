package org.d2v.backend.cuda;

import jcuda.driver.CUdeviceptr;
import org.d2v.backend.Device;
import org.d2v.backend.memory.CachingAllocator;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * {@code length} elements in a block of the device's caching allocator (the block may be larger);
 * closing it hands the block back to the allocator (no cuMemFree, which would wait for the GPU).
 */
final class CudaBuffer implements DeviceBuffer {
    private final CudaDevice device;
    private final DType dtype;
    private final long length;
    private CachingAllocator.Block<CUdeviceptr> block;

    CudaBuffer(CudaDevice device, DType dtype, long length, CachingAllocator.Block<CUdeviceptr> block) {
        this.device = device;
        this.dtype = dtype;
        this.length = length;
        this.block = block;
    }

    CUdeviceptr pointer() {
        if (block == null) throw new IllegalStateException("cuda buffer used after close");
        return block.handle();
    }

    long bytes() { return length * dtype.bytes(); }

    @Override public Device device() { return device; }

    @Override public DType dtype() { return dtype; }

    @Override public long length() { return length; }

    @Override public boolean isClosed() { return block == null; }

    @Override
    public void close() {
        if (block == null) return;
        CachingAllocator.Block<CUdeviceptr> b = block;
        block = null;
        device.released(this, b);
    }
}
