package org.d2v.backend.opencl;

import static org.jocl.CL.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.RuntimeMeter;
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.Flavour;
import org.d2v.backend.kernel.KernelRuntime;
import org.d2v.backend.kernel.KernelSignatures;
import org.d2v.backend.kernel.KernelSources;
import org.d2v.backend.kernel.LaunchChecks;
import org.d2v.backend.memory.RawMemory;
import org.d2v.backend.memory.StagingRing;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/**
 * The OpenCL side of {@link KernelRuntime} over JOCL: one device, one in-order queue, programs
 * compiled from the portable sources on the classpath ({@code org/d2v/kernels/<program>.cl} with
 * {@code d2v.h} prepended), once per storage {@link Flavour} a launch asks for (its defines as
 * build options), and cached with their kernels. Launches are serialised because a cl_kernel's
 * arguments are shared state. Uploads are queued without waiting (non-blocking writes from a
 * {@link StagingRing} of direct buffers), downloads block; both are counted in the
 * {@link RuntimeMeter} with every launch and every wait.
 */
public final class OpenClRuntime implements KernelRuntime {
    /** Host staging for uploads: how far (in bytes of queued uploads) the host may run ahead, and the largest chunk. */
    private static final long STAGING_CAP_BYTES = 64L << 20;
    private static final int STAGING_SLOT_BYTES = 8 << 20;

    private final cl_platform_id platform;
    private final cl_device_id deviceId;
    private final cl_context context;
    private final cl_command_queue queue;
    private final String deviceName;
    private DeviceCapabilities capabilities;
    private final LaunchChecks checks = new LaunchChecks("opencl");
    private final Map<String, cl_program> programs = new HashMap<>();
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final RuntimeMeter meter = new RuntimeMeter();
    /** Each live cl_mem's place in the order of creation (see {@link #creationOrder(cl_mem)}). */
    private final Map<cl_mem, Long> creationOrder = new java.util.IdentityHashMap<>();
    private long created;
    private final StagingRing<cl_event> staging = new StagingRing<>(new Events(), STAGING_CAP_BYTES, STAGING_SLOT_BYTES, meter);
    private OpenClDevice device;
    private boolean closed;

    /** A device found by {@link #discover()}: platform, device and a readable description. */
    record Found(cl_platform_id platform, cl_device_id device, String description, boolean gpu) {}

    OpenClRuntime(Found found) {
        CL.setExceptionsEnabled(true);
        this.platform = found.platform();
        this.deviceId = found.device();
        this.deviceName = found.description();
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform);
        this.context = clCreateContext(props, 1, new cl_device_id[] {deviceId}, null, null, null);
        this.queue = clCreateCommandQueue(context, deviceId, 0, null);
    }

    void attach(OpenClDevice device) { this.device = device; }

    /** Every device of every platform, GPUs first. Throws (CLException, UnsatisfiedLinkError) when OpenCL is absent. */
    static List<Found> discover() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<Found> gpus = new ArrayList<>(), others = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            int[] n = new int[1];
            try {
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
            } catch (CLException e) {
                continue; // CL_DEVICE_NOT_FOUND: a platform without devices
            }
            cl_device_id[] ids = new cl_device_id[n[0]];
            clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
            for (cl_device_id d : ids) {
                long[] type = new long[1];
                clGetDeviceInfo(d, CL_DEVICE_TYPE, Sizeof.cl_long, Pointer.to(type), null);
                boolean gpu = (type[0] & CL_DEVICE_TYPE_GPU) != 0;
                String desc = infoString(p, CL_PLATFORM_NAME) + " / " + deviceString(d, CL_DEVICE_NAME);
                (gpu ? gpus : others).add(new Found(p, d, desc, gpu));
            }
        }
        gpus.addAll(others);
        return gpus;
    }

    private static String infoString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }

    String deviceName() { return deviceName; }

    @Override public Device device() { return device; }

    @Override public String api() { return "opencl"; }

    /**
     * The device's answers to CL_DEVICE_TYPE, CL_DEVICE_LOCAL_MEM_SIZE, CL_DEVICE_MAX_WORK_GROUP_SIZE
     * and CL_DEVICE_MAX_COMPUTE_UNITS; the sub-group width is OpenCL 1.2's nearest notion,
     * CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE of a compiled kernel (elementwise/fill, which
     * every use of the device compiles anyway).
     */
    @Override
    public synchronized DeviceCapabilities capabilities() {
        if (capabilities != null) return capabilities;
        long[] type = new long[1], localMem = new long[1], workGroup = new long[1], multiple = new long[1];
        int[] units = new int[1];
        clGetDeviceInfo(deviceId, CL_DEVICE_TYPE, Sizeof.cl_long, Pointer.to(type), null);
        clGetDeviceInfo(deviceId, CL_DEVICE_LOCAL_MEM_SIZE, Sizeof.cl_long, Pointer.to(localMem), null);
        clGetDeviceInfo(deviceId, CL_DEVICE_MAX_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(workGroup), null);
        clGetDeviceInfo(deviceId, CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint, Pointer.to(units), null);
        clGetKernelWorkGroupInfo(kernel("elementwise", Flavour.F32, "fill"), deviceId, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                Sizeof.size_t, Pointer.to(multiple), null);
        DeviceCapabilities.Kind kind = (type[0] & CL_DEVICE_TYPE_GPU) != 0 ? DeviceCapabilities.Kind.GPU
                : (type[0] & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? DeviceCapabilities.Kind.ACCELERATOR : DeviceCapabilities.Kind.CPU;
        capabilities = new DeviceCapabilities(kind, (int) Math.max(1, Math.min(1024, multiple[0])), localMem[0],
                (int) Math.min(Integer.MAX_VALUE, workGroup[0]), Math.max(1, units[0]));
        return capabilities;
    }

    // ---- memory ----------------------------------------------------------------------------------

    /**
     * CL_DEVICE_GLOBAL_MEM_SIZE and CL_DEVICE_MAX_MEM_ALLOC_SIZE. OpenCL does not report free memory:
     * free is the total less what this device's allocator holds from the driver.
     */
    synchronized org.d2v.backend.DeviceMemory memory(long reservedHere) {
        long[] global = new long[1], maxAlloc = new long[1];
        clGetDeviceInfo(deviceId, CL_DEVICE_GLOBAL_MEM_SIZE, Sizeof.cl_ulong, Pointer.to(global), null);
        clGetDeviceInfo(deviceId, CL_DEVICE_MAX_MEM_ALLOC_SIZE, Sizeof.cl_ulong, Pointer.to(maxAlloc), null);
        return new org.d2v.backend.DeviceMemory(global[0], Math.max(0, global[0] - reservedHere), maxAlloc[0],
                "CL_DEVICE_GLOBAL_MEM_SIZE / CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    }

    /** Launches, driver allocations, host synchronisations and bytes copied on this device. */
    RuntimeMeter meter() { return meter; }

    /** clCreateBuffer / clReleaseMemObject, for the device's caching allocator. */
    RawMemory<cl_mem> rawMemory() {
        return new RawMemory<>() {
            @Override public cl_mem allocate(long bytes) { return createBuffer(bytes); }

            @Override public void free(cl_mem mem) {
                synchronized (creationOrder) {
                    creationOrder.remove(mem);
                }
                clReleaseMemObject(mem);
            }
        };
    }

    private cl_mem createBuffer(long bytes) {
        try {
            synchronized (creationOrder) {
                cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
                creationOrder.put(mem, ++created);
                return mem;
            }
        } catch (CLException e) {
            throw new IllegalStateException("opencl: allocating " + bytes + " bytes on " + deviceName + ": " + e.getMessage(), e);
        }
    }

    /**
     * Queues a copy of {@code count} 4-byte elements to {@code mem} at element {@code offset} and
     * returns without waiting for it: {@code fill} writes them into staging slots (direct buffers
     * that stay untouched until their copy's event completes, see {@link StagingRing}).
     */
    void write(cl_mem mem, long offset, int count, StagingRing.Fill fill) { write(mem, offset, count, 4, fill); }

    /** As {@link #write(cl_mem, long, int, StagingRing.Fill)} for elements of {@code size} bytes (2: BF16). */
    void write(cl_mem mem, long offset, int count, int size, StagingRing.Fill fill) {
        if (count == 0) return;
        int perChunk = staging.maxSlotBytes() / size;
        for (int first = 0; first < count; first += perChunk) {
            int n = Math.min(perChunk, count - first);
            StagingRing.Slot<cl_event> slot = staging.acquire(size * n);
            ByteBuffer b = slot.buffer();
            fill.into(b, first, n);
            b.position(0);
            cl_event done = new cl_event();
            synchronized (this) {
                try {
                    clEnqueueWriteBuffer(queue, mem, CL_FALSE, (long) size * (offset + first), (long) size * n, Pointer.to(b), 0, null, done);
                } catch (CLException e) {
                    throw new IllegalStateException("opencl: upload of " + n + " elements: " + e.getMessage(), e);
                }
            }
            staging.queued(slot, done);
            meter.uploaded((long) size * n);
        }
        clFlush(queue); // start the copies now rather than at the next blocking call
    }

    /** Blocking read: waits for the copy and for everything queued before it (a host synchronisation). */
    void read(cl_mem mem, long byteOffset, Pointer dst, long bytes) {
        if (bytes == 0) return;
        meter.hostSync();
        meter.downloaded(bytes);
        try {
            clEnqueueReadBuffer(queue, mem, CL_TRUE, byteOffset, bytes, dst, 0, null, null);
        } catch (CLException e) {
            throw new IllegalStateException("opencl: download of " + bytes + " bytes: " + e.getMessage(), e);
        }
    }

    /** Event queries for the staging ring: a status read never blocks, a wait does. */
    private static final class Events implements StagingRing.Host<cl_event> {
        @Override public ByteBuffer allocate(int bytes) { return ByteBuffer.allocateDirect(bytes); }

        @Override public void free(ByteBuffer buffer) {} // a direct buffer's memory goes with the garbage collector

        @Override
        public boolean passed(cl_event e) {
            int[] status = new int[1];
            clGetEventInfo(e, CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int, Pointer.to(status), null);
            if (status[0] < 0) throw new IllegalStateException("opencl: an upload failed (event status " + status[0] + ")");
            return status[0] == CL_COMPLETE;
        }

        @Override public void await(cl_event e) { clWaitForEvents(1, new cl_event[] {e}); }

        @Override public void release(cl_event e) { clReleaseEvent(e); }
    }

    @Override
    public void free(DeviceBuffer buffer) { buffer.close(); }

    // ---- programs and launches ---------------------------------------------------------------------

    private cl_program program(String name, Flavour flavour) {
        String key = flavour.fatbinName(name);
        cl_program p = programs.get(key);
        if (p != null) return p;
        String source = KernelSources.read("d2v.h") + "\n#line 1\n" + KernelSources.read(name + ".cl");
        p = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        String options = ("-cl-std=CL1.2 " + flavour.defines()).trim();
        try {
            clBuildProgram(p, 1, new cl_device_id[] {deviceId}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            clReleaseProgram(p);
            throw new IllegalStateException("opencl: building kernels/" + name + ".cl (" + options + ") failed ("
                    + e.getMessage() + ") on " + deviceName + ":\n" + log, e);
        }
        programs.put(key, p);
        return p;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, deviceId, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            clGetProgramBuildInfo(p, deviceId, CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            return cString(b);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    private cl_kernel kernel(String program, Flavour flavour, String name) {
        String key = flavour.qualify(program + "/" + name);
        cl_kernel k = kernels.get(key);
        if (k != null) return k;
        cl_program p = program(program, flavour);
        try {
            k = clCreateKernel(p, name, null);
        } catch (CLException e) {
            throw new IllegalStateException("opencl: no kernel '" + name + "' in kernels/" + program + ".cl ("
                    + e.getMessage() + ")", e);
        }
        kernels.put(key, k);
        return k;
    }

    @Override
    public synchronized void launch(String program, String kernel, long[] global, long[] local, Object... args) {
        if (closed) throw new IllegalStateException("opencl runtime is closed");
        KernelSignatures.Launch signature = checks.before(program, kernel, args);
        cl_kernel k = kernel(program, signature.flavour(), kernel);
        Pointer absent = null;
        int index = 0;
        try {
            for (Object a : args) {
                if (a == null) {
                    if (absent == null) absent = absentBuffer(args);
                    clSetKernelArg(k, index++, Sizeof.cl_mem, absent);
                    clSetKernelArg(k, index++, Sizeof.cl_int, Pointer.to(new int[] {0}));
                } else if (a instanceof Tensor t) {
                    clSetKernelArg(k, index++, Sizeof.cl_mem, Pointer.to(OpenClDevice.mem(t.buffer())));
                    clSetKernelArg(k, index++, Sizeof.cl_int, Pointer.to(new int[] {Math.toIntExact(t.offset())}));
                } else if (a instanceof Integer i) {
                    clSetKernelArg(k, index++, Sizeof.cl_int, Pointer.to(new int[] {i}));
                } else if (a instanceof Long l) {
                    clSetKernelArg(k, index++, Sizeof.cl_long, Pointer.to(new long[] {l}));
                } else if (a instanceof Float f) {
                    clSetKernelArg(k, index++, Sizeof.cl_float, Pointer.to(new float[] {f}));
                } else {
                    throw new IllegalArgumentException("opencl: kernel " + program + "/" + kernel + " argument "
                            + index + " has unsupported type " + a.getClass().getSimpleName());
                }
            }
            index = -1; // every argument set: a failure now is the enqueue's
            meter.launch(LaunchChecks.tensorBytes(args));
            clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null);
        } catch (CLException e) {
            throw new IllegalStateException("opencl: launching " + LaunchChecks.describe(signature, global, local, args)
                    + (index >= 0 ? " (setting OpenCL parameter " + index + ")" : "") + ": " + e.getMessage(), e);
        }
        checks.after(signature, global, local, args, this::synchronize);
    }

    /**
     * What an absent (null) buffer argument is bound to: the launch's first buffer, which the kernel
     * never touches there (each optional operand has its flag, 0 here). Not a null pointer: PoCL
     * vectorises `if (hasWork) work[i] = …` into masked stores through it, and an AMD Zen core takes
     * a microcode assist for every masked access to the null page (the portable AdamW ran at 8 ns a
     * parameter without its bf16 copy, 0.9 ns with one).
     */
    private static Pointer absentBuffer(Object[] args) {
        for (Object a : args) if (a instanceof Tensor t) return Pointer.to(OpenClDevice.mem(t.buffer()));
        return null;
    }

    @Override public LaunchChecks launchChecks() { return checks; }

    private String hostPaths;
    private boolean hostPathsDecided;

    /** {@code decide}'s answer, asked once: why this device's host-path variants cannot run (null: they can). */
    synchronized String hostPathsUnavailable(java.util.function.Supplier<String> decide) {
        if (!hostPathsDecided) {
            hostPaths = decide.get();
            hostPathsDecided = true;
        }
        return hostPaths;
    }

    /** Whether the device runs OpenCL native kernels (CL_EXEC_NATIVE_KERNEL): host functions queued in order. */
    boolean runsNativeKernels() {
        long[] caps = new long[1];
        clGetDeviceInfo(deviceId, CL_DEVICE_EXECUTION_CAPABILITIES, Sizeof.cl_long, Pointer.to(caps), null);
        return (caps[0] & CL_EXEC_NATIVE_KERNEL) != 0;
    }

    /**
     * Where {@code mem} stands in the order this runtime created its buffers (1, 2, ...). A native
     * kernel's buffers must be listed in this order: PoCL 3.1 sorts them by creation (its buffer
     * ids) before it writes their addresses into the argument slots, which it leaves in the order
     * given; later PoCL keeps the order given, which this order then also satisfies.
     */
    long creationOrder(Tensor t) { return t == null ? 0 : creationOrder(OpenClDevice.mem(t.buffer())); }

    long creationOrder(cl_mem mem) {
        synchronized (creationOrder) {
            Long n = creationOrder.get(mem);
            if (n == null) throw new IllegalArgumentException("opencl: " + mem + " was not created by this runtime (or is freed)");
            return n;
        }
    }

    /** Queues a native kernel (a library call, see OpenBlasGemm): what it touches, and the enqueue given the raw queue. */
    interface NativeEnqueue {
        /** Queues the call on {@code queue} (a raw cl_command_queue) and returns the OpenCL status. */
        int enqueue(long queue);
    }

    /**
     * Queues {@code call} in order with every launch, counted as one ({@code bytes} of tensors);
     * the sync-debug mode waits for it as for a kernel.
     */
    synchronized void enqueueNative(java.util.function.Supplier<String> what, long bytes, NativeEnqueue call) {
        if (closed) throw new IllegalStateException("opencl runtime is closed");
        meter.launch(bytes);
        int status = call.enqueue(queue.getNativePointer());
        if (status != CL_SUCCESS) {
            throw new IllegalStateException("opencl: queueing " + what.get() + " as a native kernel failed: " + CL.stringFor_errorCode(status));
        }
        if (checks.syncDebug()) synchronize();
    }

    @Override
    public void synchronize() {
        meter.hostSync();
        try {
            clFinish(queue);
        } catch (CLException e) {
            throw new IllegalStateException("opencl: a queued kernel failed: " + e.getMessage()
                    + " (" + LaunchChecks.SYNC_DEBUG_ENV + "=1 waits after every launch and names the kernel)", e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        staging.close();
        for (cl_kernel k : kernels.values()) clReleaseKernel(k);
        for (cl_program p : programs.values()) clReleaseProgram(p);
        kernels.clear();
        programs.clear();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
