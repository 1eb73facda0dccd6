package org.d2v.backend.opencl;

import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.jocl.cl_mem;

/** A cl_mem of {@code length} elements; closing it releases the memory and tells the device. */
final class OpenClBuffer implements DeviceBuffer {
    private final OpenClDevice device;
    private final DType dtype;
    private final long length;
    private cl_mem mem;

    OpenClBuffer(OpenClDevice device, DType dtype, long length, cl_mem mem) {
        this.device = device;
        this.dtype = dtype;
        this.length = length;
        this.mem = mem;
    }

    cl_mem mem() {
        if (mem == null) throw new IllegalStateException("opencl buffer used after close");
        return mem;
    }

    long bytes() { return length * dtype.bytes(); }

    @Override public Device device() { return device; }

    @Override public DType dtype() { return dtype; }

    @Override public long length() { return length; }

    @Override public boolean isClosed() { return mem == null; }

    @Override
    public void close() {
        if (mem == null) return;
        device.released(this, mem);
        mem = null;
    }
}
