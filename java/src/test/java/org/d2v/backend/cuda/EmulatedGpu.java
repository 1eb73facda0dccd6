package org.d2v.backend.cuda;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.d2v.backend.Device;
import org.d2v.backend.MemoryMeter;
import org.d2v.backend.Ops;
import org.d2v.backend.RuntimeCounters;
import org.d2v.backend.RuntimeMeter;
import org.d2v.backend.cuda.TensorCoreEmulator.Buf;
import org.d2v.backend.cuda.TensorCoreEmulator.Job;
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.kernel.KernelRuntime;
import org.d2v.backend.kernel.KernelSignatures;
import org.d2v.backend.kernel.LaunchChecks;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;
import sun.misc.Unsafe;

/**
 * A small sm_90 GPU emulated on the host, for tests without one: the whole op set ({@link KernelOps})
 * over a runtime whose every launch runs in the host emulator ({@link TensorCoreEmulator}, which
 * compiles the portable programs as CUDA, as nvcc does, beside the CUDA-only ones). Its capabilities
 * are a GPU's (warps of 32, 48 KiB of shared memory, compute capability 9.0, 4 SMs so grids stay
 * small), so {@link org.d2v.backend.kernel.FastVariants} offers it the CUDA-only variants and their
 * arguments, grids and launch sequences are those a GPU would get; the self-check runs them against
 * the portable twins, as on a GPU.
 *
 * <p>Memory is native host memory (so a library that takes raw device addresses, the cuBLASLt
 * stand-in of native/fakes, can read and write it); a launch ships the buffers its arguments name to
 * the emulator process and copies them back. New memory is filled with 0xff bytes (NaN floats), as
 * uninitialised device memory would hold garbage. One emulator process per launch: slow, so tests
 * keep shapes small.
 */
public final class EmulatedGpu implements Device, KernelRuntime, CublasLtVariants.Access {
    private static final Unsafe UNSAFE = unsafe();

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final DeviceCapabilities CAPABILITIES = new DeviceCapabilities(DeviceCapabilities.Kind.GPU, 32, 48L << 10, 1024, 4, 90);

    private final LaunchChecks checks = new LaunchChecks("cuda-emulator");
    private final MemoryMeter memory = new MemoryMeter();
    private final RuntimeMeter meter = new RuntimeMeter();
    private final Set<Memory> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private final KernelOps ops;
    private boolean closed;

    public EmulatedGpu() { this.ops = new KernelOps(this); }

    /** Null when the host emulator builds here (g++), else why not (tests elsewhere skip on it, or fail in CI). */
    public static String unavailableReason() { return TensorCoreEmulator.binary() == null ? TensorCoreEmulator.unavailable() : null; }

    /** A device buffer in native host memory. */
    final class Memory implements DeviceBuffer {
        final DType dtype;
        final long length;
        long address;

        Memory(DType dtype, long length) {
            this.dtype = dtype;
            this.length = length;
            this.address = UNSAFE.allocateMemory(bytes());
            UNSAFE.setMemory(address, bytes(), (byte) 0xff);
        }

        long bytes() { return length * dtype.bytes(); }

        @Override public Device device() { return EmulatedGpu.this; }
        @Override public DType dtype() { return dtype; }
        @Override public long length() { return length; }
        @Override public boolean isClosed() { return address == 0; }

        @Override
        public void close() {
            if (address == 0) return;
            UNSAFE.freeMemory(address);
            address = 0;
            live.remove(this);
            memory.freed(bytes());
        }
    }

    private static Memory mem(DeviceBuffer b) {
        if (!(b instanceof Memory m) || m.address == 0) throw new IllegalArgumentException("not a live emulated-GPU buffer: " + b);
        return m;
    }

    // ---- Device ----------------------------------------------------------------------------------

    @Override public String name() { return "emulated sm_90 GPU (host emulator)"; }
    @Override public String backend() { return "cuda-emulator"; }
    @Override public Ops ops() { return ops; }
    @Override public DType defaultFloat() { return DType.F32; }

    @Override
    public DeviceBuffer allocate(DType dtype, long elements) {
        if (dtype == DType.F64) throw new IllegalArgumentException("the emulated GPU stores F32, BF16 and I32, not F64");
        Memory m = new Memory(dtype, Math.max(1, elements));
        live.add(m);
        memory.allocated(m.bytes());
        return m;
    }

    @Override
    public void upload(DeviceBuffer dst, long offset, double[] src) {
        Memory m = mem(dst);
        check(m, offset, src.length);
        for (int i = 0; i < src.length; i++) {
            long at = m.address + m.dtype.bytes() * (offset + i);
            if (m.dtype == DType.I32) UNSAFE.putInt(at, (int) src[i]);
            else if (m.dtype == DType.BF16) UNSAFE.putShort(at, Bf16.bits((float) Bf16.round(src[i])));
            else UNSAFE.putFloat(at, (float) src[i]);
        }
        meter.uploaded((long) m.dtype.bytes() * src.length);
    }

    @Override
    public void download(DeviceBuffer src, long offset, double[] dst) {
        Memory m = mem(src);
        check(m, offset, dst.length);
        for (int i = 0; i < dst.length; i++) {
            long at = m.address + m.dtype.bytes() * (offset + i);
            dst[i] = m.dtype == DType.I32 ? UNSAFE.getInt(at) : m.dtype == DType.BF16 ? Bf16.value(UNSAFE.getShort(at)) : UNSAFE.getFloat(at);
        }
        meter.hostSync();
        meter.downloaded((long) m.dtype.bytes() * dst.length);
    }

    @Override
    public void uploadInts(DeviceBuffer dst, long offset, int[] src) {
        double[] d = new double[src.length];
        for (int i = 0; i < src.length; i++) d[i] = src[i];
        upload(dst, offset, d);
    }

    @Override
    public void downloadInts(DeviceBuffer src, long offset, int[] dst) {
        double[] d = new double[dst.length];
        download(src, offset, d);
        for (int i = 0; i < dst.length; i++) dst[i] = (int) d[i];
    }

    private static void check(Memory m, long offset, int n) {
        if (offset < 0 || offset + n > m.length) throw new IllegalArgumentException(n + " elements at " + offset + " outside " + m.length);
    }

    @Override public long bytesInUse() { return memory.inUse(); }
    @Override public long peakBytesInUse() { return memory.peak(); }
    @Override public long bytesReserved() { return memory.inUse(); }
    @Override public long peakBytesReserved() { return memory.peak(); }
    @Override public void resetPeak() { memory.resetPeak(); }
    @Override public RuntimeCounters counters() { return meter.snapshot(); }
    @Override public void resetCounters() { meter.reset(); }

    /** Launches run to completion in launch(): nothing is ever queued. */
    @Override public void synchronize() { meter.hostSync(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ops.close();
        for (Memory m : new ArrayList<>(live)) m.close();
    }

    // ---- KernelRuntime ---------------------------------------------------------------------------

    @Override public Device device() { return this; }
    @Override public String api() { return "cuda-emulator"; }
    @Override public DeviceCapabilities capabilities() { return CAPABILITIES; }
    @Override public LaunchChecks launchChecks() { return checks; }
    @Override public void free(DeviceBuffer buffer) { buffer.close(); }

    /** Checks the arguments as the CUDA runtime does, then runs the kernel in the emulator (grid = global / local). */
    @Override
    public void launch(String program, String kernel, long[] global, long[] local, Object... args) {
        KernelSignatures.Launch signature = checks.before(program, kernel, args);
        int[] block = CudaRuntime.blockSize(global, local);
        int[] grid = {1, 1, 1};
        for (int d = 0; d < global.length; d++) grid[d] = Math.toIntExact(global[d] / block[d]);
        // each storage flavour of the portable programs has its emulator (the CUDA-only ones are all in f32's)
        Job job = new Job(signature.flavour());
        Map<Memory, Buf> shipped = new LinkedHashMap<>();
        List<Object> mapped = new ArrayList<>();
        for (Object a : args) {
            if (a instanceof Tensor t) {
                Memory m = mem(t.buffer());
                Buf b = shipped.computeIfAbsent(m, x -> job.raw(bytesOf(x)));
                mapped.add(b.at(Math.toIntExact(t.offset())));
            } else {
                mapped.add(a);
            }
        }
        meter.launch();
        job.launch(kernel, grid, block, mapped.toArray());
        job.run();
        shipped.forEach((m, b) -> {
            byte[] out = b.bytes().array();
            UNSAFE.copyMemory(out, Unsafe.ARRAY_BYTE_BASE_OFFSET, null, m.address, out.length);
        });
        checks.after(signature, global, local, args, () -> {});
    }

    private static byte[] bytesOf(Memory m) {
        byte[] b = new byte[Math.toIntExact(m.bytes())];
        UNSAFE.copyMemory(null, m.address, b, Unsafe.ARRAY_BYTE_BASE_OFFSET, b.length);
        return b;
    }

    // ---- raw addresses, for the cuBLASLt stand-in -------------------------------------------------

    @Override public long address(Tensor t) { return mem(t.buffer()).address + t.offset() * t.dtype().bytes(); }

    /** The stand-in ignores streams; the emulator has none. */
    @Override public long stream() { return 0; }

    @Override public void enter() {}
}
