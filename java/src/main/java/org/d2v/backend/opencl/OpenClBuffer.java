package org.d2v.backend.opencl;

import org.d2v.backend.Device;
import org.d2v.backend.memory.CachingAllocator;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.jocl.cl_mem;

/**
 * {@code length} elements in a cl_mem block of the device's caching allocator (the block may be
 * larger); closing it hands the block back to the allocator and tells the device.
 */
final class OpenClBuffer implements DeviceBuffer {
    private final OpenClDevice device;
    private final DType dtype;
    private final long length;
    private CachingAllocator.Block<cl_mem> block;

    OpenClBuffer(OpenClDevice device, DType dtype, long length, CachingAllocator.Block<cl_mem> block) {
        this.device = device;
        this.dtype = dtype;
        this.length = length;
        this.block = block;
    }

    cl_mem mem() {
        if (block == null) throw new IllegalStateException("opencl buffer used after close");
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
        CachingAllocator.Block<cl_mem> b = block;
        block = null;
        device.released(this, b);
    }
}
