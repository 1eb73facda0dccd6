package org.d2v.backend.cuda;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import jcuda.driver.CUdeviceptr;
import org.d2v.backend.Device;
import org.d2v.backend.Ops;
import org.d2v.backend.RuntimeCounters;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.tensor.Bf16;
import org.d2v.backend.memory.CachingAllocator;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * A CUDA GPU: F32 and I32 buffers from a caching allocator, uploads through a pinned staging ring
 * that do not wait, blocking downloads, the kernel op set.
 */
public final class CudaDevice implements Device {
    private final CudaRuntime runtime;
    private final CachingAllocator<CUdeviceptr> allocator;
    private final KernelOps ops;
    private final Set<CudaBuffer> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private boolean closed;

    CudaDevice(CudaRuntime runtime) {
        this.runtime = runtime;
        runtime.attach(this);
        this.allocator = new CachingAllocator<>("cuda: " + runtime.driver().deviceName(), runtime.rawMemory(), runtime.meter());
        this.ops = new KernelOps(runtime);
        ops.fast().register(CublasLtVariants.all(runtime, new CublasLtVariants.Access() {
            @Override public long address(org.d2v.tensor.Tensor t) { return CudaHandles.address(t); }
            @Override public long stream() { return CudaHandles.stream(CudaDevice.this); }
            @Override public void enter() { runtime.makeCurrent(); }
        }, org.d2v.jni.CublasLt.DEFAULT_WORKSPACE_BYTES));
    }

    /** The runtime under this device, for GPU-side timing ({@link CudaRuntime#timeMs}). */
    public CudaRuntime runtime() { return runtime; }

    private static CudaBuffer buf(DeviceBuffer b) {
        if (!(b instanceof CudaBuffer c)) throw new IllegalArgumentException("not a cuda buffer: " + b);
        return c;
    }

    @Override public String name() { return "cuda: " + runtime.driver().describe(); }

    @Override public String backend() { return "cuda"; }

    @Override public Ops ops() { return ops; }

    @Override public DType defaultFloat() { return DType.F32; }

    @Override
    public DeviceBuffer allocate(DType dtype, long elements) {
        if (dtype == DType.F64) throw new IllegalArgumentException("cuda device stores F32, BF16 and I32, not F64");
        if (elements < 1) throw new IllegalArgumentException("cuda: cannot allocate " + elements + " elements");
        CudaBuffer b = new CudaBuffer(this, dtype, elements, allocator.allocate(elements * dtype.bytes()));
        live.add(b);
        return b;
    }

    void released(CudaBuffer b, CachingAllocator.Block<CUdeviceptr> block) {
        live.remove(b);
        allocator.release(block);
    }

    /** The caching allocator behind {@link #allocate}. */
    public CachingAllocator<CUdeviceptr> allocator() { return allocator; }

    private static void checkRange(CudaBuffer b, long offset, int n) {
        if (offset < 0 || offset + n > b.length()) {
            throw new IllegalArgumentException("cuda: " + n + " elements at " + offset + " outside a buffer of " + b.length());
        }
    }

    @Override
    public void upload(DeviceBuffer dst, long offset, double[] src) {
        CudaBuffer b = buf(dst);
        checkRange(b, offset, src.length);
        if (b.dtype() == DType.I32) {
            runtime.write(b.pointer(), offset, src.length, (s, first, n) -> {
                for (int i = 0; i < n; i++) s.putInt((int) src[first + i]);
            });
        } else if (b.dtype() == DType.BF16) {
            runtime.write(b.pointer(), offset, src.length, 2, (s, first, n) -> {
                for (int i = 0; i < n; i++) s.putShort(Bf16.bits((float) Bf16.round(src[first + i])));
            });
        } else {
            runtime.write(b.pointer(), offset, src.length, (s, first, n) -> {
                for (int i = 0; i < n; i++) s.putFloat((float) src[first + i]);
            });
        }
    }

    @Override
    public void download(DeviceBuffer src, long offset, double[] dst) {
        CudaBuffer b = buf(src);
        checkRange(b, offset, dst.length);
        ops.checkIndexErrors();
        if (b.dtype() == DType.I32) {
            runtime.read(b.pointer(), offset, dst.length, (s, first, n) -> {
                for (int i = 0; i < n; i++) dst[first + i] = s.getInt();
            });
        } else if (b.dtype() == DType.BF16) {
            runtime.read(b.pointer(), offset, dst.length, 2, (s, first, n) -> {
                for (int i = 0; i < n; i++) dst[first + i] = Bf16.value(s.getShort());
            });
        } else {
            runtime.read(b.pointer(), offset, dst.length, (s, first, n) -> {
                for (int i = 0; i < n; i++) dst[first + i] = s.getFloat();
            });
        }
    }

    @Override
    public void uploadInts(DeviceBuffer dst, long offset, int[] src) {
        CudaBuffer b = buf(dst);
        if (b.dtype() != DType.I32) throw new IllegalArgumentException("cuda: uploadInts into a " + b.dtype() + " buffer");
        checkRange(b, offset, src.length);
        runtime.write(b.pointer(), offset, src.length, (s, first, n) -> s.asIntBuffer().put(src, first, n));
    }

    @Override
    public void downloadInts(DeviceBuffer src, long offset, int[] dst) {
        CudaBuffer b = buf(src);
        if (b.dtype() != DType.I32) throw new IllegalArgumentException("cuda: downloadInts from a " + b.dtype() + " buffer");
        checkRange(b, offset, dst.length);
        ops.checkIndexErrors();
        runtime.read(b.pointer(), offset, dst.length, (s, first, n) -> s.asIntBuffer().get(dst, first, n));
    }

    @Override public void synchronize() { runtime.synchronize(); }

    @Override public long bytesInUse() { return allocator.bytesInUse(); }

    @Override public long peakBytesInUse() { return allocator.peakBytesInUse(); }

    @Override public long bytesReserved() { return allocator.bytesReserved(); }

    @Override public org.d2v.backend.DeviceMemory memory() { return runtime.memory(); }

    @Override public long peakBytesReserved() { return allocator.peakBytesReserved(); }

    @Override public void resetPeak() { allocator.resetPeaks(); }

    @Override public RuntimeCounters counters() { return runtime.meter().snapshot(); }

    @Override public void resetCounters() { runtime.meter().reset(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ops.close();
        synchronized (live) {
            for (CudaBuffer b : live.toArray(new CudaBuffer[0])) b.close();
        }
        allocator.close();
        runtime.close();
    }
}
