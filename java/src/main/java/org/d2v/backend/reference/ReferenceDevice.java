package org.d2v.backend.reference;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.d2v.backend.Device;
import org.d2v.backend.MemoryMeter;
import org.d2v.backend.Ops;
import org.d2v.backend.RuntimeCounters;
import org.d2v.backend.RuntimeMeter;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * The reference device: host memory, synchronous ops. Buffers are plain Java arrays, allocated per
 * request and left to the garbage collector: there is no driver and no cache, so bytes reserved
 * equal bytes in use and the counters show no launches and no driver allocations. They do count
 * the bytes copied, and every download as a host synchronisation (where a device would wait), so
 * a test can check on this backend too that a training step reads nothing back.
 */
public final class ReferenceDevice implements Device {
    private final ReferenceOps ops = new ReferenceOps();
    private final Set<RefBuffer> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private final DType defaultFloat;
    private final MemoryMeter memory = new MemoryMeter();
    private final RuntimeMeter meter = new RuntimeMeter();

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
        meter.uploaded((long) src.length * b.dtype.bytes());
    }

    @Override
    public void download(DeviceBuffer src, long offset, double[] dst) {
        RefBuffer b = buf(src);
        countDownload(b, dst.length);
        System.arraycopy(b.data, (int) offset, dst, 0, dst.length);
    }

    @Override
    public void uploadInts(DeviceBuffer dst, long offset, int[] src) {
        RefBuffer b = buf(dst);
        for (int i = 0; i < src.length; i++) b.data[(int) offset + i] = src[i];
        meter.uploaded(4L * src.length);
    }

    private void countDownload(RefBuffer b, int n) {
        meter.hostSync();
        meter.downloaded((long) n * b.dtype.bytes());
    }

    @Override
    public void downloadInts(DeviceBuffer src, long offset, int[] dst) {
        RefBuffer b = buf(src);
        countDownload(b, dst.length);
        for (int i = 0; i < dst.length; i++) dst[i] = (int) b.data[(int) offset + i];
    }

    /** Nothing is ever queued; counted anyway, as a device's wait would be. */
    @Override public void synchronize() { meter.hostSync(); }

    /** Bytes of the dtype's size per element (what a device would hold), not the double[] behind it. */
    @Override public long bytesInUse() { return memory.inUse(); }

    @Override public long peakBytesInUse() { return memory.peak(); }

    @Override public long bytesReserved() { return memory.inUse(); }

    /**
     * The JVM heap (-Xmx): this device's memory. Every element is held as a double, so in the units
     * of {@link #bytesInUse()} (the tensors' own dtypes) the heap holds dtype.bytes()/8 of its size;
     * the figures are given for the default float type. One buffer is one Java array: at most 2^31 elements.
     */
    @Override
    public org.d2v.backend.DeviceMemory memory() {
        Runtime rt = Runtime.getRuntime();
        double scale = defaultFloat.bytes() / 8.0;
        long max = rt.maxMemory(), used = rt.totalMemory() - rt.freeMemory();
        return new org.d2v.backend.DeviceMemory((long) (max * scale), (long) ((max - used) * scale),
                (long) (Integer.MAX_VALUE - 8) * defaultFloat.bytes(), "the JVM heap (-Xmx), elements held as doubles");
    }

    @Override public long peakBytesReserved() { return memory.peak(); }

    @Override public void resetPeak() { memory.resetPeak(); }

    @Override public RuntimeCounters counters() { return meter.snapshot(); }

    @Override public void resetCounters() { meter.reset(); }

    @Override
    public void close() {
        synchronized (live) {
            for (RefBuffer b : live.toArray(new RefBuffer[0])) b.close();
        }
    }
}
