package org.d2v.backend.opencl;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.d2v.backend.Device;
import org.d2v.backend.Ops;
import org.d2v.backend.RuntimeCounters;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.memory.CachingAllocator;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.jocl.Pointer;
import org.jocl.cl_mem;

/**
 * An OpenCL device: F32, BF16 and I32 buffers from a caching allocator, uploads that do not wait
 * (staged, see {@link OpenClRuntime#write}), blocking downloads, the kernel op set.
 */
public final class OpenClDevice implements Device {
    private final OpenClRuntime runtime;
    private final CachingAllocator<cl_mem> allocator;
    private final KernelOps ops;
    private final Set<OpenClBuffer> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private boolean closed;

    OpenClDevice(OpenClRuntime runtime) {
        this.runtime = runtime;
        runtime.attach(this);
        this.allocator = new CachingAllocator<>("opencl: " + runtime.deviceName(), runtime.rawMemory(), runtime.meter());
        this.ops = new KernelOps(runtime);
        // A CPU device's GEMMs and convolutions through a CPU BLAS, and the decoder's noise, GELU,
        // dropout, LayerNorm, attention, reduceMiddle and AdamW as vectorised host loops, where libd2v_cpu and the BLAS load.
        ops.fast().register(new OpenBlasGemm(runtime));
        ops.fast().register(OpenBlasConv.all(runtime));
        ops.fast().register(new NativeNormal(runtime));
        ops.fast().register(new NativeDropout(runtime));
        ops.fast().register(new NativeAdamw(runtime));
        ops.fast().register(NativeGelu.all(runtime));
        ops.fast().register(NativeLayerNorm.all(runtime));
        ops.fast().register(NativeAttention.all(runtime));
        ops.fast().register(new NativeReduceMiddle(runtime));
    }

    /** The runtime under this device (the host-path variants and their tests queue native kernels on it). */
    OpenClRuntime runtime() { return runtime; }

    static cl_mem mem(DeviceBuffer b) {
        if (!(b instanceof OpenClBuffer o)) throw new IllegalArgumentException("not an opencl buffer: " + b);
        return o.mem();
    }

    private static OpenClBuffer buf(DeviceBuffer b) {
        if (!(b instanceof OpenClBuffer o)) throw new IllegalArgumentException("not an opencl buffer: " + b);
        return o;
    }

    @Override public String name() { return "opencl: " + runtime.deviceName(); }

    @Override public String backend() { return "opencl"; }

    @Override public Ops ops() { return ops; }

    @Override public DType defaultFloat() { return DType.F32; }

    @Override
    public DeviceBuffer allocate(DType dtype, long elements) {
        if (dtype == DType.F64) throw new IllegalArgumentException("opencl device stores F32, BF16 and I32, not F64");
        if (elements < 1) throw new IllegalArgumentException("opencl: cannot allocate " + elements + " elements");
        OpenClBuffer b = new OpenClBuffer(this, dtype, elements, allocator.allocate(elements * dtype.bytes()));
        live.add(b);
        return b;
    }

    void released(OpenClBuffer b, CachingAllocator.Block<cl_mem> block) {
        live.remove(b);
        allocator.release(block);
    }

    /** The caching allocator behind {@link #allocate} (tests empty its cache). */
    public CachingAllocator<cl_mem> allocator() { return allocator; }

    private static void checkRange(OpenClBuffer b, long offset, int n) {
        if (offset < 0 || offset + n > b.length()) {
            throw new IllegalArgumentException("opencl: " + n + " elements at " + offset + " outside a buffer of " + b.length());
        }
    }

    @Override
    public void upload(DeviceBuffer dst, long offset, double[] src) {
        OpenClBuffer b = buf(dst);
        checkRange(b, offset, src.length);
        if (b.dtype() == DType.I32) {
            runtime.write(b.mem(), offset, src.length, (s, first, n) -> {
                for (int i = 0; i < n; i++) s.putInt((int) src[first + i]);
            });
        } else if (b.dtype() == DType.BF16) {
            runtime.write(b.mem(), offset, src.length, 2, (s, first, n) -> {
                for (int i = 0; i < n; i++) s.putShort(Bf16.bits((float) Bf16.round(src[first + i])));
            });
        } else {
            runtime.write(b.mem(), offset, src.length, (s, first, n) -> {
                for (int i = 0; i < n; i++) s.putFloat((float) src[first + i]);
            });
        }
    }

    @Override
    public void download(DeviceBuffer src, long offset, double[] dst) {
        OpenClBuffer b = buf(src);
        checkRange(b, offset, dst.length);
        ops.checkIndexErrors();
        if (b.dtype() == DType.I32) {
            int[] v = new int[dst.length];
            runtime.read(b.mem(), offset * 4, Pointer.to(v), 4L * v.length);
            for (int i = 0; i < v.length; i++) dst[i] = v[i];
        } else if (b.dtype() == DType.BF16) {
            short[] v = new short[dst.length];
            runtime.read(b.mem(), offset * 2, Pointer.to(v), 2L * v.length);
            for (int i = 0; i < v.length; i++) dst[i] = Bf16.value(v[i]);
        } else {
            float[] v = new float[dst.length];
            runtime.read(b.mem(), offset * 4, Pointer.to(v), 4L * v.length);
            for (int i = 0; i < v.length; i++) dst[i] = v[i];
        }
    }

    @Override
    public void uploadInts(DeviceBuffer dst, long offset, int[] src) {
        OpenClBuffer b = buf(dst);
        if (b.dtype() != DType.I32) throw new IllegalArgumentException("opencl: uploadInts into a " + b.dtype() + " buffer");
        checkRange(b, offset, src.length);
        runtime.write(b.mem(), offset, src.length, (s, first, n) -> s.asIntBuffer().put(src, first, n));
    }

    @Override
    public void downloadInts(DeviceBuffer src, long offset, int[] dst) {
        OpenClBuffer b = buf(src);
        if (b.dtype() != DType.I32) throw new IllegalArgumentException("opencl: downloadInts from a " + b.dtype() + " buffer");
        checkRange(b, offset, dst.length);
        ops.checkIndexErrors();
        runtime.read(b.mem(), offset * 4, Pointer.to(dst), 4L * dst.length);
    }

    @Override public void synchronize() { runtime.synchronize(); }

    @Override public long bytesInUse() { return allocator.bytesInUse(); }

    @Override public long peakBytesInUse() { return allocator.peakBytesInUse(); }

    @Override public long bytesReserved() { return allocator.bytesReserved(); }

    @Override public org.d2v.backend.DeviceMemory memory() { return runtime.memory(allocator.bytesReserved()); }

    @Override public long peakBytesReserved() { return allocator.peakBytesReserved(); }

    @Override public void resetPeak() { allocator.resetPeaks(); }

    @Override public RuntimeCounters counters() { return runtime.meter().snapshot(); }

    @Override public void resetCounters() { runtime.meter().reset(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        // Queued work first: PoCL compiles a kernel for its work-group size when the command runs,
        // and releasing programs and buffers under a compile in flight crashed its LLVM (seen when a
        // device was closed right after an unsynchronised launch). A failed wait still releases.
        try {
            runtime.synchronize();
        } catch (RuntimeException e) {
            System.err.println("d2v: opencl: closing " + runtime.deviceName() + " without waiting for its queue: " + e.getMessage());
        }
        ops.close();
        synchronized (live) {
            for (OpenClBuffer b : live.toArray(new OpenClBuffer[0])) b.close();
        }
        allocator.close();
        runtime.close();
    }
}
