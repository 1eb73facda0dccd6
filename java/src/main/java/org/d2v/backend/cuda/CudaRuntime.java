package org.d2v.backend.cuda;

import static jcuda.driver.CUdevice_attribute.*;
import static jcuda.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK;
import static jcuda.driver.JCudaDriver.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.Flavour;
import org.d2v.backend.kernel.KernelRuntime;
import org.d2v.backend.kernel.KernelSignatures;
import org.d2v.backend.kernel.LaunchChecks;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;

/**
 * {@link KernelRuntime} over the CUDA driver API (JCuda): the primary context of device 0 (shared
 * with libraries such as cuBLAS), one stream for every launch and copy, modules loaded from the
 * nvcc fatbins on the classpath with their functions cached, and a pinned staging buffer for host
 * copies (the driver copies pinned memory at full PCIe speed and without an extra bounce).
 *
 * <p>A driver context is current per thread, so every entry point makes it current first; the
 * methods are synchronised because the staging buffer and the caches are shared.
 */
public final class CudaRuntime implements KernelRuntime {
    /** Staging grows up to this size; larger copies go through it in chunks. */
    private static final long MAX_STAGING_BYTES = 32L << 20;
    private static final CUdeviceptr NULL_POINTER = new CUdeviceptr();

    private final CudaDriver driver;
    private final CUdevice cuDevice = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<CUfunction, Integer> maxThreads = new HashMap<>();
    private Pointer staging;
    private long stagingBytes;
    private CudaDevice device;
    private DeviceCapabilities capabilities;
    private final LaunchChecks checks = new LaunchChecks("cuda");
    private boolean closed;

    CudaRuntime(CudaDriver driver) {
        this.driver = driver;
        JCudaDriver.setExceptionsEnabled(true);
        try {
            cuInit(0);
            cuDeviceGet(cuDevice, 0);
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
     * declare without opting in), threads per block and SM count, from the driver.
     */
    @Override
    public synchronized DeviceCapabilities capabilities() {
        if (capabilities == null) {
            enter();
            capabilities = new DeviceCapabilities(DeviceCapabilities.Kind.GPU, attribute(CU_DEVICE_ATTRIBUTE_WARP_SIZE),
                    attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK), attribute(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                    attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
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

    synchronized CUdeviceptr allocate(long bytes) {
        enter();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            long[] free = new long[1], total = new long[1];
            cuMemGetInfo(free, total);
            throw new IllegalStateException("cuda: allocating " + bytes + " bytes on " + driver.deviceName() + " failed ("
                    + e.getMessage() + "); " + free[0] + " of " + total[0] + " bytes free, "
                    + (device == null ? 0 : device.bytesInUse()) + " held by d2v", e);
        }
        return p;
    }

    synchronized void release(CUdeviceptr p) {
        if (closed) return; // the context is gone, and with it the memory
        cuCtxSetCurrent(context);
        cuMemFree(p);
    }

    /** The pinned staging buffer, at least {@code bytes} large (up to the cap), as little-endian bytes. */
    private ByteBuffer staging(long bytes) {
        long want = Math.min(Math.max(bytes, 1L << 20), MAX_STAGING_BYTES);
        if (staging == null || stagingBytes < want) {
            if (staging != null) cuMemFreeHost(staging);
            staging = new Pointer();
            cuMemAllocHost(staging, want);
            stagingBytes = want;
        }
        return staging.getByteBuffer(0, stagingBytes).order(ByteOrder.nativeOrder());
    }

    /** Fills chunks of the staging buffer and copies each to the device: {@code fill(buffer, first, count)}. */
    interface ChunkWriter { void fill(ByteBuffer staging, int first, int count); }

    /** Reads chunks back from the staging buffer: {@code drain(buffer, first, count)}. */
    interface ChunkReader { void drain(ByteBuffer staging, int first, int count); }

    /** Copies {@code count} 4-byte elements to device memory at element {@code offset}. */
    void write(CUdeviceptr base, long offset, int count, ChunkWriter writer) { write(base, offset, count, 4, writer); }

    /** Copies {@code count} elements of {@code size} bytes to device memory at element {@code offset}. */
    synchronized void write(CUdeviceptr base, long offset, int count, int size, ChunkWriter writer) {
        enter();
        ByteBuffer buf = staging((long) size * count);
        int perChunk = (int) (stagingBytes / size);
        for (int first = 0; first < count; first += perChunk) {
            int n = Math.min(perChunk, count - first);
            buf.clear();
            writer.fill(buf, first, n);
            try {
                cuMemcpyHtoDAsync(base.withByteOffset((long) size * (offset + first)), staging, (long) size * n, stream);
                cuStreamSynchronize(stream); // the staging buffer is reused for the next chunk
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: upload of " + n + " elements: " + e.getMessage(), e);
            }
        }
    }

    /** Copies {@code count} 4-byte elements from device memory at element {@code offset}. */
    void read(CUdeviceptr base, long offset, int count, ChunkReader reader) { read(base, offset, count, 4, reader); }

    /** Copies {@code count} elements of {@code size} bytes from device memory at element {@code offset}. */
    synchronized void read(CUdeviceptr base, long offset, int count, int size, ChunkReader reader) {
        enter();
        ByteBuffer buf = staging((long) size * count);
        int perChunk = (int) (stagingBytes / size);
        for (int first = 0; first < count; first += perChunk) {
            int n = Math.min(perChunk, count - first);
            try {
                cuMemcpyDtoHAsync(staging, base.withByteOffset((long) size * (offset + first)), (long) size * n, stream);
                cuStreamSynchronize(stream);
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: download of " + n + " elements (or a kernel queued before it) failed: "
                        + e.getMessage(), e);
            }
            buf.clear();
            reader.drain(buf, first, n);
        }
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
        if (staging != null) cuMemFreeHost(staging);
        staging = null;
        cuStreamDestroy(stream);
        closed = true;
        cuDevicePrimaryCtxRelease(cuDevice);
    }

}
