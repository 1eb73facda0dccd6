package org.d2v.backend.reference;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.d2v.backend.Device;
import org.d2v.backend.MemoryMeter;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/** The reference device: host memory, synchronous ops. */
public final class ReferenceDevice implements Device {
    private final ReferenceOps ops = new ReferenceOps();
    private final Set<RefBuffer> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private final DType defaultFloat;
    private final MemoryMeter memory = new MemoryMeter();

    public ReferenceDevice() { this(DType.F32); }

    public ReferenceDevice(DType defaultFloat) { this.defaultFloat = defaultFloat; }

    @Override public String name() { return "reference (pure Java)"; }

    @Override public String backend() { return "reference"; }

    @Override public Ops ops() { return ops; }

    @Override public DType defaultFloat() { return defaultFloat; }

    @Override
    public DeviceBuffer allocate(DType dtype, long elements) {
        RefBuffer b = new RefBuffer(this, dtype, elements);
        live.add(b);
        memory.allocated(elements * dtype.bytes());
        return b;
    }

    void released(RefBuffer b) {
        if (live.remove(b)) memory.freed(b.length() * b.dtype.bytes());
    }

    static RefBuffer buf(DeviceBuffer b) {
        if (!(b instanceof RefBuffer r)) throw new IllegalArgumentException("not a reference buffer: " + b);
        if (r.data == null) throw new IllegalStateException("buffer used after close");
        return r;
    }

    @Override
    public void upload(DeviceBuffer dst, long offset, double[] src) {
        RefBuffer b = buf(dst);
        for (int i = 0; i < src.length; i++) b.data[(int) offset + i] = ReferenceOps.round(b.dtype, src[i]);
    }

    @Override
    public void download(DeviceBuffer src, long offset, double[] dst) {
        System.arraycopy(buf(src).data, (int) offset, dst, 0, dst.length);
    }

    @Override
    public void uploadInts(DeviceBuffer dst, long offset, int[] src) {
        RefBuffer b = buf(dst);
        for (int i = 0; i < src.length; i++) b.data[(int) offset + i] = src[i];
    }

    @Override
    public void downloadInts(DeviceBuffer src, long offset, int[] dst) {
        RefBuffer b = buf(src);
        for (int i = 0; i < dst.length; i++) dst[i] = (int) b.data[(int) offset + i];
    }

    @Override public void synchronize() {}

    /** Bytes of the dtype's size per element (what a device would hold), not the double[] behind it. */
    @Override public long bytesInUse() { return memory.inUse(); }

    @Override public long peakBytesInUse() { return memory.peak(); }

    @Override public void resetPeak() { memory.resetPeak(); }

    @Override
    public void close() {
        synchronized (live) {
            for (RefBuffer b : live.toArray(new RefBuffer[0])) b.close();
        }
    }
}
