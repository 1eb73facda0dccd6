package org.d2v.data2vec;

import java.lang.reflect.Proxy;
import org.d2v.backend.Device;
import org.d2v.backend.Ops;
import org.d2v.backend.RuntimeCounters;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * A device that holds no memory and computes nothing: building a model on it runs every
 * parameter declaration without allocating, so the base presets (≈1 GB of doubles on the
 * reference device) can be counted from their configuration alone.
 */
final class DryRunDevice implements Device {
    private final Ops ops = (Ops) Proxy.newProxyInstance(Ops.class.getClassLoader(), new Class<?>[] {Ops.class},
            (proxy, method, args) -> {
                if (method.getDeclaringClass() == Object.class) return method.invoke(this, args);
                return null; // every op returns void: nothing to compute
            });

    private record Buffer(Device device, DType dtype, long length) implements DeviceBuffer {
        @Override public boolean isClosed() { return false; }

        @Override public void close() {}
    }

    @Override public String name() { return "dry run (no memory)"; }

    @Override public String backend() { return "dry-run"; }

    @Override public Ops ops() { return ops; }

    @Override public DeviceBuffer allocate(DType dtype, long elements) { return new Buffer(this, dtype, elements); }

    @Override public void upload(DeviceBuffer dst, long offset, double[] src) {}

    @Override public void download(DeviceBuffer src, long offset, double[] dst) {}

    @Override public void uploadInts(DeviceBuffer dst, long offset, int[] src) {}

    @Override public void downloadInts(DeviceBuffer src, long offset, int[] dst) {}

    @Override public void synchronize() {}

    @Override public long bytesInUse() { return 0; }

    @Override public long peakBytesInUse() { return 0; }

    @Override public long bytesReserved() { return 0; }

    @Override public long peakBytesReserved() { return 0; }

    @Override public void resetPeak() {}

    @Override public RuntimeCounters counters() { return RuntimeCounters.ZERO; }

    @Override public void resetCounters() {}

    @Override public DType defaultFloat() { return DType.F32; }

    @Override public void close() {}
}
