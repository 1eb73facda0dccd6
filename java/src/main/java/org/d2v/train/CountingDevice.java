package org.d2v.train;

import java.lang.reflect.Proxy;
import org.d2v.backend.Device;
import org.d2v.backend.MemoryMeter;
import org.d2v.backend.Ops;
import org.d2v.backend.RuntimeCounters;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * A device that computes nothing and holds nothing, but counts: every allocation's size, the live
 * bytes and their peak, the largest single buffer. A model built and stepped on it shows what it
 * would allocate on a real device ({@link MemoryEstimate}); downloads read zeros.
 */
final class CountingDevice implements Device {
    private final DType defaultFloat;
    private final MemoryMeter memory = new MemoryMeter();
    private long largest;
    private final Ops ops = (Ops) Proxy.newProxyInstance(Ops.class.getClassLoader(), new Class<?>[] {Ops.class},
            (proxy, method, args) -> method.getDeclaringClass() == Object.class ? method.invoke(this, args) : null);

    CountingDevice(DType defaultFloat) { this.defaultFloat = defaultFloat; }

    private final class Buffer implements DeviceBuffer {
        private final DType dtype;
        private final long length;
        private boolean closed;

        Buffer(DType dtype, long length) {
            this.dtype = dtype;
            this.length = length;
        }

        @Override public Device device() { return CountingDevice.this; }

        @Override public DType dtype() { return dtype; }

        @Override public long length() { return length; }

        @Override public boolean isClosed() { return closed; }

        @Override
        public void close() {
            if (!closed) memory.freed(length * dtype.bytes());
            closed = true;
        }
    }

    /** The largest single buffer allocated so far, in bytes. */
    long largestAllocation() { return largest; }

    void resetLargest() { largest = 0; }

    @Override public String name() { return "counting dry run"; }

    @Override public String backend() { return "dry-run"; }

    @Override public Ops ops() { return ops; }

    @Override
    public DeviceBuffer allocate(DType dtype, long elements) {
        long bytes = elements * dtype.bytes();
        memory.allocated(bytes);
        largest = Math.max(largest, bytes);
        return new Buffer(dtype, elements);
    }

    @Override public void upload(DeviceBuffer dst, long offset, double[] src) {}

    @Override public void download(DeviceBuffer src, long offset, double[] dst) {}

    @Override public void uploadInts(DeviceBuffer dst, long offset, int[] src) {}

    @Override public void downloadInts(DeviceBuffer src, long offset, int[] dst) {}

    @Override public void synchronize() {}

    @Override public long bytesInUse() { return memory.inUse(); }

    @Override public long peakBytesInUse() { return memory.peak(); }

    @Override public long bytesReserved() { return memory.inUse(); }

    @Override public long peakBytesReserved() { return memory.peak(); }

    @Override public void resetPeak() { memory.resetPeak(); }

    @Override public RuntimeCounters counters() { return RuntimeCounters.ZERO; }

    @Override public void resetCounters() {}

    @Override public DType defaultFloat() { return defaultFloat; }

    @Override public void close() {}
}
