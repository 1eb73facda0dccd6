package org.d2v.backend.reference;

import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * Reference storage: a double[] for every dtype. F32 buffers hold values already rounded to float
 * (every store rounds), I32 buffers hold exact integers; so one plain implementation of each op
 * serves float64 (the oracle) and float32 (the fallback).
 */
final class RefBuffer implements DeviceBuffer {
    final ReferenceDevice device;
    final DType dtype;
    double[] data;

    RefBuffer(ReferenceDevice device, DType dtype, long length) {
        if (length > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("reference buffers hold at most 2^31 elements");
        this.device = device;
        this.dtype = dtype;
        this.data = new double[(int) length];
    }

    @Override public Device device() { return device; }

    @Override public DType dtype() { return dtype; }

    @Override public long length() { return data == null ? 0 : data.length; }

    @Override public boolean isClosed() { return data == null; }

    @Override
    public void close() {
        if (data != null) {
            device.released(this);
            data = null;
        }
    }
}
