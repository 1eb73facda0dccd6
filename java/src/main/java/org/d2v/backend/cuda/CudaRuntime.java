package org.d2v.backend.cuda;

import static jcuda.driver.CUdevice_attribute.*;
import static jcuda.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK;
import static jcuda.driver.JCudaDriver.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.d2v.backend.Device;
import org.d2v.backend.RuntimeMeter;
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.Flavour;
import org.d2v.backend.kernel.KernelRuntime;
import org.d2v.backend.kernel.KernelSignatures;
import org.d2v.backend.kernel.LaunchChecks;
import org.d2v.backend.memory.RawMemory;
import org.d2v.backend.memory.StagingRing;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;

/**
 * {@link KernelRuntime} over the CUDA driver API (JCuda): the primary context of the chosen GPU
 * ({@link CudaOrdinal}: device 0, or the local rank's under mpirun/srun; shared
 * with libraries such as cuBLAS), one stream for every launch and copy, modules loaded from the
 * nvcc fatbins on the classpath with their functions cached, a ring of pinned staging slots for
 * uploads that do not wait (the driver copies pinned memory asynchronously, at full PCIe speed) and
 * a pinned readback buffer for downloads, which wait. Memory comes from the device's caching
 * allocator over {@link #rawMemory()}; launches, waits and copies are counted in a {@link RuntimeMeter}.
 *
 * <p>A driver context is current per thread, so every entry point makes it current first; the
 * methods are synchronised because the staging buffer and the caches are shared.
 */
public final class CudaRuntime implements KernelRuntime {
    /** The readback buffer grows up to this size; larger downloads go through it in chunks. */
    private static final long MAX_STAGING_BYTES = 32L << 20;
    /** Pinned upload staging: how far (in bytes of queued uploads) the host may run ahead, and the largest chunk. */
    private static final long STAGING_CAP_BYTES = 64L << 20;
    private static final int STAGING_SLOT_BYTES = 8 << 20;
    private static final CUdeviceptr NULL_POINTER = new CUdeviceptr();

    private final CudaDriver driver;
    private final CUdevice cuDevice = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<CUfunction, Integer> maxThreads = new HashMap<>();
    private final RuntimeMeter meter = new RuntimeMeter();
    private final PinnedEvents pinned = new PinnedEvents();
    private final StagingRing<CUevent> staging = new StagingRing<>(pinned, STAGING_CAP_BYTES, STAGING_SLOT_BYTES, meter);
    private Pointer readback;
    private long readbackBytes;
    private CudaDevice device;
    private DeviceCapabilities capabilities;
    private final LaunchChecks checks = new LaunchChecks("cuda");
    private boolean closed;

    CudaRuntime(CudaDriver driver) {
        this.driver = driver;
        JCudaDriver.setExceptionsEnabled(true);
        try {
            cuInit(0);
            cuDeviceGet(cuDevice, driver.ordinal());
            cuDevicePrimaryCtxRetain(context, cuDevice);
            cuCtxSetCurrent(context);
            // Blocking stream (flags 0): ordered with the legacy default stream that libraries may use.
            cuStreamCreate(stream, 0);
        } catch (CudaException e) {
            throw new IllegalStateException("cuda: cannot open " + driver.describe() + ": " + e.getMessage(), e);
        }
    }

    void attach(CudaDevice device) { this.device = device; }

    CudaDriver driver() { return driver; }

    @Override public Device device() { return device; }

    @Override public String api() { return "cuda"; }

    /**
     * A GPU: warp size, static shared memory per block (the 48 KiB a kernel's __shared__ arrays may
     * declare without opting in), threads per block and SM count, from the driver; the compute
     * capability, since this runtime launches the CUDA-only programs (kernels/*.cu) too.
     */
    @Override
    public synchronized DeviceCapabilities capabilities() {
        if (capabilities == null) {
            enter();
            capabilities = new DeviceCapabilities(DeviceCapabilities.Kind.GPU, attribute(CU_DEVICE_ATTRIBUTE_WARP_SIZE),
                    attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK), attribute(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                    attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), 10 * driver.major() + driver.minor());
        }
        return capabilities;
    }

    private int attribute(int attribute) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attribute, cuDevice);
        return v[0];
    }

    private void enter() {
        if (closed) throw new IllegalStateException("cuda runtime is closed");
        cuCtxSetCurrent(context);
    }

    /** Makes this runtime's context current on the calling thread (for libraries such as cuBLAS). */
    synchronized void makeCurrent() { enter(); }

    /** The stream every launch and copy goes to; libraries queue on it too, so order is kept. */
    CUstream stream() { return stream; }

    // ---- memory ----------------------------------------------------------------------------------

    /** cuMemGetInfo: free and total memory of the device now (free counts what the allocator caches as used). */
    synchronized org.d2v.backend.DeviceMemory memory() {
        enter();
        long[] free = new long[1], total = new long[1];
        cuMemGetInfo(free, total);
        return new org.d2v.backend.DeviceMemory(total[0], free[0], total[0], "cuMemGetInfo");
    }

    /** Launches, driver allocations, host synchronisations and bytes copied on this device. */
    RuntimeMeter meter() { return meter; }

    /** cuMemAlloc / cuMemFree, for the device's caching allocator (cuMemFree waits for the GPU: the cache avoids it). */
    RawMemory<CUdeviceptr> rawMemory() {
        return new RawMemory<>() {
            @Override public CUdeviceptr allocate(long bytes) { return allocateRaw(bytes); }

            @Override public void free(CUdeviceptr p) { releaseRaw(p); }
        };
    }

    private synchronized CUdeviceptr allocateRaw(long bytes) {
        enter();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            long[] free = new long[1], total = new long[1];
            cuMemGetInfo(free, total);
            throw new IllegalStateException("cuda: cuMemAlloc of " + bytes + " bytes on " + driver.deviceName() + " failed ("
                    + e.getMessage() + "); " + free[0] + " of " + total[0] + " bytes free", e);
        }
        return p;
    }

    private synchronized void releaseRaw(CUdeviceptr p) {
        if (closed) return; // the context is gone, and with it the memory
        cuCtxSetCurrent(context);
        cuMemFree(p);
    }

    /** The pinned readback buffer, at least {@code bytes} large (up to the cap), as little-endian bytes. */
    private ByteBuffer readback(long bytes) {
        long want = Math.min(Math.max(bytes, 1L << 20), MAX_STAGING_BYTES);
        if (readback == null || readbackBytes < want) {
            if (readback != null) cuMemFreeHost(readback);
            readback = new Pointer();
            cuMemAllocHost(readback, want);
            readbackBytes = want;
        }
        return readback.getByteBuffer(0, readbackBytes).order(ByteOrder.nativeOrder());
    }

    /** Reads chunks back from the readback buffer: {@code drain(buffer, first, count)}. */
    interface ChunkReader { void drain(ByteBuffer staging, int first, int count); }

    /**
     * Queues a copy of {@code count} 4-byte elements to device memory at element {@code offset}
     * and returns without waiting: {@code fill} writes them into pinned slots of the staging ring,
     * each copied with cuMemcpyHtoDAsync and reused once its event has passed.
     */
    void write(CUdeviceptr base, long offset, int count, StagingRing.Fill fill) { write(base, offset, count, 4, fill); }

    /** As {@link #write(CUdeviceptr, long, int, StagingRing.Fill)} for elements of {@code size} bytes (2: BF16). */
    synchronized void write(CUdeviceptr base, long offset, int count, int size, StagingRing.Fill fill) {
        enter();
        int perChunk = staging.maxSlotBytes() / size;
        for (int first = 0; first < count; first += perChunk) {
            int n = Math.min(perChunk, count - first);
            StagingRing.Slot<CUevent> slot = staging.acquire(size * n);
            fill.into(slot.buffer(), first, n);
            CUevent done = new CUevent();
            try {
                cuMemcpyHtoDAsync(base.withByteOffset((long) size * (offset + first)), pinned.pointer(slot.buffer()), (long) size * n, stream);
                cuEventCreate(done, CUevent_flags.CU_EVENT_DISABLE_TIMING);
                cuEventRecord(done, stream);
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: upload of " + n + " elements: " + e.getMessage(), e);
            }
            staging.queued(slot, done);
            meter.uploaded((long) size * n);
        }
    }

    /** Copies {@code count} 4-byte elements from device memory at element {@code offset}; waits (a host synchronisation per chunk). */
    void read(CUdeviceptr base, long offset, int count, ChunkReader reader) { read(base, offset, count, 4, reader); }

    /** As {@link #read(CUdeviceptr, long, int, ChunkReader)} for elements of {@code size} bytes (2: BF16). */
    synchronized void read(CUdeviceptr base, long offset, int count, int size, ChunkReader reader) {
        enter();
        ByteBuffer buf = readback((long) size * count);
        int perChunk = (int) (readbackBytes / size);
        for (int first = 0; first < count; first += perChunk) {
            int n = Math.min(perChunk, count - first);
            meter.hostSync();
            meter.downloaded((long) size * n);
            try {
                cuMemcpyDtoHAsync(readback, base.withByteOffset((long) size * (offset + first)), (long) size * n, stream);
                cuStreamSynchronize(stream);
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: download of " + n + " elements (or a kernel queued before it) failed: "
                        + e.getMessage(), e);
            }
            buf.clear();
            reader.drain(buf, first, n);
        }
    }

    /** Pinned host slots and CUDA events for the staging ring. Called with the context current (under the runtime's lock). */
    private static final class PinnedEvents implements StagingRing.Host<CUevent> {
        private final Map<ByteBuffer, Pointer> pointers = new IdentityHashMap<>();

        Pointer pointer(ByteBuffer b) { return pointers.get(b); }

        @Override
        public ByteBuffer allocate(int bytes) {
            Pointer p = new Pointer();
            cuMemAllocHost(p, bytes);
            ByteBuffer b = p.getByteBuffer(0, bytes);
            pointers.put(b, p);
            return b;
        }

        @Override public void free(ByteBuffer b) { cuMemFreeHost(pointers.remove(b)); }

        @Override
        public boolean passed(CUevent e) {
            try {
                cuEventQuery(e);
                return true;
            } catch (CudaException x) { // JCuda throws for every result but success, CUDA_ERROR_NOT_READY included
                if (String.valueOf(x.getMessage()).contains("CUDA_ERROR_NOT_READY")) return false;
                throw new IllegalStateException("cuda: an upload failed: " + x.getMessage(), x);
            }
        }

        @Override public void await(CUevent e) { cuEventSynchronize(e); }

        @Override public void release(CUevent e) { cuEventDestroy(e); }
    }

    @Override
    public void free(DeviceBuffer buffer) { buffer.close(); }

    // ---- modules and launches --------------------------------------------------------------------

    /** The kernel in the program's fatbin of {@code flavour} (kernels/build.sh builds one per storage flavour). */
    private CUfunction function(String program, Flavour flavour, String kernel) {
        String fatbin = flavour.fatbinName(program);
        String key = fatbin + "/" + kernel;
        CUfunction f = functions.get(key);
        if (f != null) return f;
        CUmodule module = modules.get(fatbin);
        if (module == null) {
            module = new CUmodule();
            try {
                cuModuleLoadData(module, CudaKernels.fatbin(fatbin));
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: loading kernels/" + fatbin + ".fatbin on " + driver.describe()
                        + " failed: " + e.getMessage() + " (the fatbin has SASS for sm_80, sm_90 and PTX 9.0)", e);
            }
            modules.put(fatbin, module);
        }
        f = new CUfunction();
        try {
            cuModuleGetFunction(f, module, kernel);
        } catch (CudaException e) {
            throw new IllegalStateException("cuda: no kernel '" + kernel + "' in kernels/" + fatbin + ".fatbin ("
                    + e.getMessage() + ")", e);
        }
        int[] threads = new int[1];
        cuFuncGetAttribute(threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f);
        maxThreads.put(f, threads[0]);
        functions.put(key, f);
        return f;
    }

    @Override
    public synchronized void launch(String program, String kernel, long[] global, long[] local, Object... args) {
        enter();
        KernelSignatures.Launch signature = checks.before(program, kernel, args);
        CUfunction f = function(program, signature.flavour(), kernel);
        int[] block = blockSize(global, local);
        int[] grid = new int[3];
        for (int d = 0; d < 3; d++) grid[d] = d < global.length ? (int) (global[d] / block[d]) : 1;
        int threads = block[0] * block[1] * block[2];
        if (threads > maxThreads.get(f)) {
            throw new IllegalArgumentException("cuda: " + program + "/" + kernel + " takes at most " + maxThreads.get(f)
                    + " threads per block on " + driver.arch() + ", launched with " + Arrays.toString(local));
        }
        if (grid[1] > 65535 || grid[2] > 65535) {
            throw new IllegalArgumentException("cuda: " + program + "/" + kernel + " grid " + Arrays.toString(grid)
                    + " exceeds 65535 blocks in y or z (global " + Arrays.toString(global) + ")");
        }
        if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0) return; // nothing to do, and CUDA rejects empty grids
        try {
            meter.launch(LaunchChecks.tensorBytes(args));
            cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, stream,
                    Pointer.to(parameters(program, kernel, args)), null);
        } catch (CudaException e) {
            throw new IllegalStateException("cuda: launching " + LaunchChecks.describe(signature, global, local, args)
                    + " (grid " + Arrays.toString(grid) + ", block " + Arrays.toString(block) + "): " + e.getMessage(), e);
        }
        checks.after(signature, global, local, args, this::synchronize);
    }

    @Override public LaunchChecks launchChecks() { return checks; }

    /**
     * CUDA's block from OpenCL's local size; global must be a multiple of it (as in OpenCL). A null
     * local size (OpenCL lets the implementation choose) gets, per dimension, the largest power of
     * two up to 256 that divides the global size, so exactly {@code global} threads run.
     */
    static int[] blockSize(long[] global, long[] local) {
        if (global.length < 1 || global.length > 3) throw new IllegalArgumentException("cuda: 1 to 3 dimensions, got " + global.length);
        if (local != null && local.length != global.length) {
            throw new IllegalArgumentException("cuda: global " + Arrays.toString(global) + " and local " + Arrays.toString(local)
                    + " differ in dimensions");
        }
        int[] block = {1, 1, 1};
        int budget = 256;
        for (int d = 0; d < global.length; d++) {
            if (local != null) {
                if (local[d] < 1 || global[d] % local[d] != 0) {
                    throw new IllegalArgumentException("cuda: global size " + Arrays.toString(global)
                            + " is not a multiple of local size " + Arrays.toString(local));
                }
                block[d] = Math.toIntExact(local[d]);
            } else {
                int b = Integer.highestOneBit(Math.max(1, budget));
                while (b > 1 && global[d] % b != 0) b >>= 1;
                block[d] = b;
                budget /= b;
            }
            if (global[d] / block[d] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("cuda: global size " + Arrays.toString(global) + " needs too many blocks");
            }
        }
        return block;
    }

    /** One host pointer per kernel parameter, following KernelRuntime's argument mapping. */
    private Pointer[] parameters(String program, String kernel, Object[] args) {
        List<Pointer> params = new ArrayList<>(args.length + 8);
        for (Object a : args) {
            if (a == null) {
                params.add(Pointer.to(NULL_POINTER));
                params.add(Pointer.to(new int[] {0}));
            } else if (a instanceof Tensor t) {
                params.add(Pointer.to(pointerOf(t, program, kernel, params.size())));
                params.add(Pointer.to(new int[] {Math.toIntExact(t.offset())}));
            } else if (a instanceof Integer i) {
                params.add(Pointer.to(new int[] {i}));
            } else if (a instanceof Long l) {
                params.add(Pointer.to(new long[] {l}));
            } else if (a instanceof Float x) {
                params.add(Pointer.to(new float[] {x}));
            } else {
                throw new IllegalArgumentException("cuda: kernel " + program + "/" + kernel + " parameter " + params.size()
                        + " has unsupported type " + a.getClass().getSimpleName() + " (Tensor, Integer, Long, Float)");
            }
        }
        return params.toArray(new Pointer[0]);
    }

    private CUdeviceptr pointerOf(Tensor t, String program, String kernel, int index) {
        if (!(t.buffer() instanceof CudaBuffer b) || b.device() != device) {
            throw new IllegalArgumentException("cuda: kernel " + program + "/" + kernel + " parameter " + index
                    + " is not on this CUDA device: " + t);
        }
        return b.pointer();
    }

    @Override
    public synchronized void synchronize() {
        enter();
        meter.hostSync();
        try {
            cuStreamSynchronize(stream);
        } catch (CudaException e) {
            throw new IllegalStateException("cuda: a queued kernel failed: " + e.getMessage()
                    + " (" + LaunchChecks.SYNC_DEBUG_ENV + "=1 waits after every launch and names the kernel)", e);
        }
    }

    /**
     * GPU time of the work {@code body} queues, in milliseconds, measured with events on the stream
     * (no host overhead between launches is counted unless the GPU waited for it).
     */
    public synchronized float timeMs(Runnable body) {
        enter();
        CUevent start = new CUevent(), end = new CUevent();
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            cuEventRecord(start, stream);
            body.run();
            cuCtxSetCurrent(context);
            cuEventRecord(end, stream);
            cuEventSynchronize(end);
            float[] ms = new float[1];
            cuEventElapsedTime(ms, start, end);
            return ms[0];
        } finally {
            cuEventDestroy(start);
            cuEventDestroy(end);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        try {
            cuCtxSetCurrent(context);
            cuStreamSynchronize(stream);
        } catch (CudaException e) {
            // a failed kernel must not keep the context alive; the error was reported by synchronize()
        }
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        functions.clear();
        try {
            staging.close();
        } catch (RuntimeException e) {
            // as above: the failure was reported where it happened
        }
        if (readback != null) cuMemFreeHost(readback);
        readback = null;
        cuStreamDestroy(stream);
        closed = true;
        cuDevicePrimaryCtxRelease(cuDevice);
    }

}
