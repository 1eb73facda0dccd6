package org.d2v.bench;

import java.util.function.Function;
import org.d2v.backend.Device;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;

/**
 * A device that forwards everything to another device, so that a model built on it sends every op
 * through an {@link Ops} decorator (profiling, recording) without touching the runtimes. The model
 * finds its ops through {@code tensor.device().ops()}, so the buffers it allocates here report this
 * device; {@link #unwrap} turns a tensor back into a view of the inner buffer before an inner op sees it.
 * Host transfers go through the decorator's {@link ForwardingOps#run} hook too.
 */
public class ForwardingDevice implements Device {
    private final Device inner;
    private final ForwardingOps ops;

    /** @param decorator builds the op set this device hands out from the inner device's op set */
    public ForwardingDevice(Device inner, Function<Ops, ForwardingOps> decorator) {
        this.inner = inner;
        this.ops = decorator.apply(inner.ops());
    }

    public Device inner() { return inner; }

    /** A buffer of the inner device that reports this device as its owner. */
    static final class Buffer implements DeviceBuffer {
        final DeviceBuffer inner;
        private final ForwardingDevice device;

        Buffer(DeviceBuffer inner, ForwardingDevice device) {
            this.inner = inner;
            this.device = device;
        }

        @Override public Device device() { return device; }

        @Override public DType dtype() { return inner.dtype(); }

        @Override public long length() { return inner.length(); }

        @Override public boolean isClosed() { return inner.isClosed(); }

        @Override public void close() { inner.close(); }
    }

    static DeviceBuffer unwrap(DeviceBuffer b) { return b instanceof Buffer f ? f.inner : b; }

    /** The same window as a view of the inner device's buffer (null stays null). */
    static Tensor unwrap(Tensor t) {
        if (t == null || !(t.buffer() instanceof Buffer f)) return t;
        return Tensor.view(f.inner, t.offset(), t.shape());
    }

    @Override public String name() { return inner.name(); }

    @Override public String backend() { return inner.backend(); }

    @Override public ForwardingOps ops() { return ops; }

    @Override public DeviceBuffer allocate(DType dtype, long elements) { return new Buffer(inner.allocate(dtype, elements), this); }

    @Override
    public void upload(DeviceBuffer dst, long offset, double[] src) {
        ops.run("upload", null, () -> inner.upload(unwrap(dst), offset, src));
    }

    @Override
    public void download(DeviceBuffer src, long offset, double[] dst) {
        ops.run("download", null, () -> inner.download(unwrap(src), offset, dst));
    }

    @Override
    public void uploadInts(DeviceBuffer dst, long offset, int[] src) {
        ops.run("upload", null, () -> inner.uploadInts(unwrap(dst), offset, src));
    }

    @Override
    public void downloadInts(DeviceBuffer src, long offset, int[] dst) {
        ops.run("download", null, () -> inner.downloadInts(unwrap(src), offset, dst));
    }

    @Override public void synchronize() { inner.synchronize(); }

    @Override public long bytesInUse() { return inner.bytesInUse(); }

    @Override public long peakBytesInUse() { return inner.peakBytesInUse(); }

    @Override public long bytesReserved() { return inner.bytesReserved(); }

    @Override public long peakBytesReserved() { return inner.peakBytesReserved(); }

    @Override public org.d2v.backend.RuntimeCounters counters() { return inner.counters(); }

    @Override public void resetCounters() { inner.resetCounters(); }

    @Override public void resetPeak() { inner.resetPeak(); }

    @Override public DType defaultFloat() { return inner.defaultFloat(); }

    /** Leaves the inner device open: whoever opened it closes it. */
    @Override public void close() {}
}
