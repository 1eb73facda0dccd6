package org.d2v.backend.cuda;

import jcuda.driver.CUdeviceptr;
import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/** A cuMemAlloc block of {@code length} elements; closing it frees the memory and tells the device. */
final class CudaBuffer implements DeviceBuffer {
    private final CudaDevice device;
    private final DType dtype;
    private final long length;
    private CUdeviceptr pointer;

    CudaBuffer(CudaDevice device, DType dtype, long length, CUdeviceptr pointer) {
        this.device = device;
        this.dtype = dtype;
        this.length = length;
        this.pointer = pointer;
    }

    CUdeviceptr pointer() {
        if (pointer == null) throw new IllegalStateException("cuda buffer used after close");
        return pointer;
    }

    long bytes() { return length * dtype.bytes(); }

    @Override public Device device() { return device; }

    @Override public DType dtype() { return dtype; }

    @Override public long length() { return length; }

    @Override public boolean isClosed() { return pointer == null; }

    @Override
    public void close() {
        if (pointer == null) return;
        CUdeviceptr p = pointer;
        pointer = null;
        device.released(this, p);
    }
}
