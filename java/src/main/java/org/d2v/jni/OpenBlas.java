package org.d2v.jni;

import java.util.List;
import java.util.Locale;

/**
 * A CPU BLAS for the GEMMs of a CPU OpenCL device (PoCL), through {@code libd2v_cpu.so}, which
 * opens {@code libopenblas.so.0} (then {@code libopenblas.so}; {@value #LIBRARY_PROPERTY} names
 * others: any library with {@code cblas_sgemm}) and the OpenCL loader at run time. Each GEMM is
 * queued as an OpenCL native kernel ({@link #enqueueGemm}), so it runs in the device's in-order
 * queue between the kernels around it and the host never waits for it; OpenCL hands the kernel
 * the host addresses of the buffers, which on a CPU device are the buffers themselves.
 *
 * <p>Threads: {@value #THREADS_PROPERTY} (default 1) is OpenBLAS's own count per call. PoCL's
 * worker threads already use every core; a host kernel runs on one of them while the others wait
 * for the in-order queue, and OpenBLAS's own threads would spin beside PoCL's on the same cores
 * (measured in docs/training.md's profile section). Instead libd2v_cpu keeps a small pool of its
 * own ({@value #HOST_THREADS_PROPERTY} threads, the calling one included; default the smaller of
 * 2 and the available cores) that parks on a condition variable when idle (after a spin of at
 * most {@value #SPIN_PROPERTY} microseconds, default {@value #DEFAULT_SPIN_MICROS}); the big host
 * kernels (GEMMs by blocks of rows or columns, convolutions by groups, attention by batch and
 * head, LayerNorm by rows, GELU, normal() and reduceMiddle by blocks) split over it, each part a
 * one-thread OpenBLAS call or loop. The split depends only on the shape and the thread count, so
 * a run is deterministic for a given thread count (convolutions, attention, GELU, normal() and
 * reduceMiddle give the same bits for any count; LayerNorm's gamma and beta gradients are summed
 * per part, and a GEMM's parts are separate OpenBLAS calls, whose last register tile OpenBLAS's
 * Haswell kernels round differently from an inner one, so there their last bits follow the count).
 * Before OpenBLAS loads, the native side names the newest kernel family this CPU's instructions
 * allow ({@value #CORETYPE_PROPERTY}: an OpenBLAS older than the CPU model otherwise falls back to
 * its slowest generic kernels, and an inherited OPENBLAS_CORETYPE may pin a slower family).
 */
public final class OpenBlas {
    /** Comma-separated file names to try instead of libopenblas.so.0, libopenblas.so. */
    public static final String LIBRARY_PROPERTY = "d2v.openblas.library";
    /** OpenBLAS threads per GEMM (default 1). */
    public static final String THREADS_PROPERTY = "d2v.openblas.threads";
    /** Threads of the host kernels' pool, the calling one included (default min(2, available cores); 1: no pool). */
    public static final String HOST_THREADS_PROPERTY = "d2v.cpu.threads";
    /** How long an idle pool thread spins before it sleeps, in microseconds (default {@value #DEFAULT_SPIN_MICROS}). */
    public static final String SPIN_PROPERTY = "d2v.cpu.spinMicros";
    /**
     * Which OpenBLAS kernel family to load: {@code auto} (default) the newest this CPU's instructions
     * run, in place of an OPENBLAS_CORETYPE inherited from the environment (a machine image that pins
     * Haswell's AVX2 kernels halves the GEMMs' speed on an AVX-512 CPU); {@code env} keeps a set
     * OPENBLAS_CORETYPE; any other value is the family's name (OpenBLAS's, e.g. HASWELL, SKYLAKEX, ZEN).
     */
    public static final String CORETYPE_PROPERTY = "d2v.openblas.coretype";
    /**
     * 100 µs: long enough to bridge the gap to the next host kernel of a step (a few small
     * portable kernels), so the worker is awake for it instead of paying a futex wake and a
     * context switch; short enough that an idle pool gives its core back within a tenth of a
     * millisecond. Against 20 µs, steps alternating in one process (HostPoolAB --spins 20,100,
     * bench/pytorch/README.md) took 0.96 / 0.86 / 0.98 / 0.96 of the time on the four tiny presets.
     */
    static final int DEFAULT_SPIN_MICROS = 100;
    static final List<String> DEFAULT_NAMES = List.of("libopenblas.so.0", "libopenblas.so");
    static final List<String> OPENCL_NAMES = List.of("libOpenCL.so.1", "libOpenCL.so");

    private OpenBlas() {}

    private static String failure;
    private static boolean probed;

    /** Loads the BLAS once; null when loaded, else the reason (native library not built, BLAS or OpenCL loader absent). */
    public static synchronized String unavailableReason() {
        if (probed) return failure;
        probed = true;
        NativeLibraries.Status cpu = NativeLibraries.load(NativeLibraries.Library.CPU);
        if (!cpu.loaded()) {
            failure = cpu.describe();
            return failure;
        }
        int threads = threads();
        int hostThreads = hostThreads();
        int spin = intProperty(SPIN_PROPERTY, String.valueOf(DEFAULT_SPIN_MICROS), 0, 100_000, "a spin in microseconds");
        String coreType = coreType(System.getProperty(CORETYPE_PROPERTY, "auto"));
        String why = nativeLoad(VendorLibrary.names(LIBRARY_PROPERTY, DEFAULT_NAMES), OPENCL_NAMES.toArray(new String[0]), coreType);
        if (why != null) {
            failure = "library absent: " + why + " (Debian: apt-get install libopenblas0)";
        } else {
            nativeSetThreads(threads);
            spinNanos = spin * 1000L;
            nativeSetHostThreads(hostThreads, 1.0, spinNanos);
        }
        return failure;
    }

    private static long spinNanos;

    /** A {@value #CORETYPE_PROPERTY} value as the native side takes it: auto, env or a family name. */
    static String coreType(String value) {
        String v = value.trim();
        if (!v.matches("[A-Za-z0-9_]{1,32}")) {
            throw new IllegalArgumentException(CORETYPE_PROPERTY + "=" + value + ": expected auto, env or an OpenBLAS kernel family (e.g. SKYLAKEX)");
        }
        return v;
    }

    private static int threads() {
        return intProperty(THREADS_PROPERTY, "1", 1, 1024, "a thread count");
    }

    private static int hostThreads() {
        String dflt = String.valueOf(Math.min(2, Runtime.getRuntime().availableProcessors()));
        return intProperty(HOST_THREADS_PROPERTY, dflt, 1, 64, "a thread count");
    }

    private static int intProperty(String name, String dflt, int min, int max, String what) {
        String s = System.getProperty(name, dflt).trim();
        try {
            int n = Integer.parseInt(s);
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + name + "=" + s + ": expected " + what + " from " + min + " to " + max);
    }

    /**
     * Sets the host kernels' pool: {@code threads} (the calling one included) and the scale of every
     * split threshold (1 as configured; 0 splits whatever can be split, so that tests reach the
     * threaded paths at small sizes). Returns false where the library is not loaded.
     */
    public static synchronized boolean configureHostThreads(int threads, double splitScale) {
        if (unavailableReason() != null) return false;
        if (threads < 1 || threads > 64 || !(splitScale >= 0)) {
            throw new IllegalArgumentException("host threads " + threads + ", split scale " + splitScale + ": expected 1..64 and >= 0");
        }
        nativeSetHostThreads(threads, splitScale, spinNanos);
        return true;
    }

    /**
     * Sets how long an idle pool worker spins before it sleeps, in microseconds (benchmarks compare
     * spins in one process; the default is {@value #SPIN_PROPERTY}'s). Returns false where the
     * library is not loaded.
     */
    public static synchronized boolean configureHostSpin(int micros) {
        if (unavailableReason() != null) return false;
        if (micros < 0 || micros > 100_000) throw new IllegalArgumentException("spin " + micros + " us: expected 0..100000");
        spinNanos = micros * 1000L;
        nativeSetHostThreads(nativeHostThreads(), 1.0, spinNanos);
        return true;
    }

    /** The configured pool back ({@value #HOST_THREADS_PROPERTY}, thresholds as built). */
    public static synchronized void restoreHostThreads() {
        if (unavailableReason() == null) nativeSetHostThreads(hostThreads(), 1.0, spinNanos);
    }

    /** How many host-kernel runs were split over the pool's threads so far (0 where the library is not loaded). */
    public static long pooledRuns() {
        return unavailableReason() == null ? nativePoolJobs() : 0;
    }

    /** Threads the host kernels use now (1 where the library is not loaded). */
    public static int hostThreadCount() {
        return unavailableReason() == null ? nativeHostThreads() : 1;
    }

    /**
     * For {@code d2v info}: "OpenBLAS: libopenblas.so.0: OpenBLAS 0.3.21 … (kernels SkylakeX, 1 thread);
     * host kernels on 2 threads (d2v.cpu.threads)", or why not.
     */
    public static String describe() {
        String why = unavailableReason();
        if (why == null) {
            int t = nativeHostThreads();
            return "OpenBLAS: " + nativeDescribe() + "; host kernels on " + t + " thread" + (t == 1 ? "" : "s") + " (" + HOST_THREADS_PROPERTY + ")";
        }
        return why.startsWith("library absent") ? "OpenBLAS: " + why : "OpenBLAS: not built (" + why + ")";
    }

    /**
     * Queues C[p] = act(op(A[p])·op(B[p or 0]) + bias) (or C[p] += ... when {@code accumulate})
     * on {@code queue} (a raw cl_command_queue) for p below {@code batch}. {@code mems} are the raw
     * cl_mem handles of A, B, bias, C, preact (0 where absent: bias, preact), {@code order} their
     * places in the order of creation (the native side lists the distinct buffers in that order,
     * the one PoCL 3.1 substitutes their addresses in); offsets and strides count fp32 elements;
     * strideB 0 broadcasts B. Returns the OpenCL status of the enqueue (0: queued).
     */
    public static int enqueueGemm(long queue, long[] mems, long[] order,
                                  int m, int n, int k, boolean transA, boolean transB, int batch,
                                  boolean gelu, boolean accumulate,
                                  long ao, long bo, long biaso, long co, long po, long strideA, long strideB, long strideC) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5) throw new IllegalArgumentException("openblas gemm: expected 5 buffers and their order");
        if (queue == 0 || mems[0] == 0 || mems[1] == 0 || mems[3] == 0) throw new IllegalArgumentException("openblas gemm: null queue or operand");
        if (m < 1 || n < 1 || k < 1 || batch < 1) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "openblas gemm: empty shape %dx%dx%d batch %d", m, n, k, batch));
        }
        if (gelu && accumulate) throw new IllegalArgumentException("openblas gemm: accumulate with GELU is not defined");
        return nativeEnqueueGemm(queue, mems, order,
                new int[] {m, n, k, transA ? 1 : 0, transB ? 1 : 0, batch, mems[2] != 0 ? 1 : 0, gelu ? 1 : 0, mems[4] != 0 ? 1 : 0,
                        accumulate ? 1 : 0},
                new long[] {ao, bo, biaso, co, po, strideA, strideB, strideC});
    }

    /** The pass of {@link #enqueueConv}: which operands it reads and writes (see there). */
    public enum ConvPass { FORWARD, BACKWARD_INPUT, BACKWARD_WEIGHT }

    /**
     * Queues one pass of a grouped channels-last convolution (org.d2v.backend.ConvDesc) as GEMMs
     * over im2col columns: FORWARD y = conv(x, w) + bias (mems: x, w, bias, y), BACKWARD_INPUT
     * dx (+)= conv-transpose(dy, w) (mems: dy, w, 0, dx), BACKWARD_WEIGHT dw += correlation(x, dy),
     * dbias += Σ dy (mems: x, dy, dbias, dw). The fifth buffer is unused (0). {@code order} and
     * {@code offsets} as for {@link #enqueueGemm}. Returns the OpenCL status of the enqueue.
     */
    public static int enqueueConv(long queue, ConvPass pass, long[] mems, long[] order, long[] offsets,
                                  int batch, int inC, int outC, int inH, int inW, int kH, int kW,
                                  int strideH, int strideW, int padH, int padW, int groups, boolean accumulate) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5 || offsets.length != 5) {
            throw new IllegalArgumentException("openblas conv: expected 5 buffers, their order and offsets");
        }
        if (queue == 0 || mems[0] == 0 || mems[1] == 0 || mems[3] == 0) throw new IllegalArgumentException("openblas conv: null queue or operand");
        return nativeEnqueueConv(queue, mems, order, new int[] {pass.ordinal(), batch, inC, outC, inH, inW, kH, kW, strideH, strideW,
                padH, padW, groups, accumulate ? 1 : 0}, offsets);
    }

    /**
     * Queues out = mean + std·N(0, 1) over {@code n} fp32 elements from the Philox stream (seed,
     * offset), as org.d2v.backend.Philox and kernels/random.cl draw it (Box–Muller in float),
     * vectorised on the host. mems: 0, 0, 0, out, 0; {@code order} and {@code offsets} as for
     * {@link #enqueueGemm}.
     */
    public static int enqueueNormal(long queue, long[] mems, long[] order, long[] offsets, long n, float mean, float std,
                                    long seed, long offset) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5 || offsets.length != 5) {
            throw new IllegalArgumentException("openblas normal: expected 5 buffers, their order and offsets");
        }
        if (queue == 0 || mems[3] == 0) throw new IllegalArgumentException("openblas normal: null queue or output");
        return nativeEnqueueNormal(queue, mems, order, offsets, n, mean, std, seed, offset);
    }

    /**
     * Queues y (+)= x · keep / (1 − p) over n elements as a native kernel, keep from the Philox
     * stream (seed, offset) against the unsigned {@code threshold} as kernels/random.cl's dropout.
     * mems: x, 0, 0, y, 0; {@code order} and {@code offsets} as for {@link #enqueueGemm}.
     */
    public static int enqueueDropout(long queue, long[] mems, long[] order, long[] offsets, long n, int threshold, float scale,
                                     long seed, long offset, boolean accumulate) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5 || offsets.length != 5) {
            throw new IllegalArgumentException("native dropout: expected 5 buffers, their order and offsets");
        }
        if (queue == 0 || mems[0] == 0 || mems[3] == 0) throw new IllegalArgumentException("native dropout: null queue, input or output");
        return nativeEnqueueDropout(queue, mems, order, offsets, n, threshold, scale, seed, offset, accumulate);
    }

    /**
     * Queues one AdamW step over n fp32 masters as a native kernel, in kernels/optim.cl's order of
     * operations. mems: p, g, m, v, the gradient-scale scalar (0: none); {@code hyper}: β1, 1 − β1,
     * β2, 1 − β2, eps, lr·wd, the bias-corrected step size; {@code order} and {@code offsets} as for
     * {@link #enqueueGemm}.
     */
    public static int enqueueAdamw(long queue, long[] mems, long[] order, long[] offsets, long n, float[] hyper) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5 || offsets.length != 5 || hyper.length != 7) {
            throw new IllegalArgumentException("native adamw: expected 5 buffers, their order and offsets, and 7 hyperparameters");
        }
        for (int i = 0; i < 4; i++) if (mems[i] == 0) throw new IllegalArgumentException("native adamw: operand " + i + " is null");
        if (queue == 0) throw new IllegalArgumentException("native adamw: null queue");
        return nativeEnqueueAdamw(queue, mems, order, offsets, n, hyper);
    }

    private static native int nativeEnqueueAdamw(long queue, long[] mems, long[] order, long[] offsets, long n, float[] hyper);

    private static native int nativeEnqueueDropout(long queue, long[] mems, long[] order, long[] offsets, long n, int threshold,
                                                   float scale, long seed, long offset, boolean accumulate);

    private static native int nativeEnqueueNormal(long queue, long[] mems, long[] order, long[] offsets, long n, float mean,
                                                  float std, long seed, long offset);

    /**
     * Queues GELU over {@code n} fp32 elements, vectorised on the host (the exact erf form of
     * kernels/d2v.h): forward y = gelu(x) (mems: x, 0, 0, y, 0) or backward dx (+)= dy · gelu'(x)
     * (mems: x, dy, 0, dx, 0). {@code order} and {@code offsets} as for {@link #enqueueGemm}.
     */
    public static int enqueueGelu(long queue, long[] mems, long[] order, long[] offsets, long n, boolean backward, boolean accumulate) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5 || offsets.length != 5) {
            throw new IllegalArgumentException("openblas gelu: expected 5 buffers, their order and offsets");
        }
        if (queue == 0 || mems[0] == 0 || mems[3] == 0 || (backward && mems[1] == 0)) throw new IllegalArgumentException("openblas gelu: null queue or operand");
        return nativeEnqueueGelu(queue, mems, order, offsets, n, backward, accumulate);
    }

    private static native int nativeEnqueueGelu(long queue, long[] mems, long[] order, long[] offsets, long n, boolean backward,
                                                boolean accumulate);

    /**
     * Queues LayerNorm over {@code rows} rows of {@code dim} fp32 values (org.d2v.backend.Ops):
     * forward, mems x, gamma, beta, y, mean, rstd; backward, mems x, gamma, mean, rstd, dy, dx,
     * dgamma, dbeta (0 where absent; dx (+)= as {@code accumulate}, dgamma and dbeta accumulate).
     * {@code order} and {@code offsets} as for {@link #enqueueGemm}, one per buffer.
     */
    public static int enqueueLayerNorm(long queue, long[] mems, long[] order, long[] offsets, int rows, int dim, float eps,
                                       boolean backward, boolean accumulate) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        int n = backward ? 8 : 6;
        if (mems.length != n || order.length != n || offsets.length != n) {
            throw new IllegalArgumentException("openblas layerNorm: expected " + n + " buffers, their order and offsets");
        }
        if (queue == 0 || mems[0] == 0 || rows < 1 || dim < 1) throw new IllegalArgumentException("openblas layerNorm: null queue or input");
        return nativeEnqueueLayerNorm(queue, mems, order, offsets, rows, dim, eps, backward, accumulate);
    }

    private static native int nativeEnqueueLayerNorm(long queue, long[] mems, long[] order, long[] offsets, int rows, int dim,
                                                     float eps, boolean backward, boolean accumulate);

    /**
     * Queues reduceMiddle (org.d2v.backend.Ops) over fp32 x [a, b, c] into out [a, c] on the host:
     * mems x, 0, 0, out, 0; {@code order} and {@code offsets} as for {@link #enqueueGemm}.
     */
    public static int enqueueReduceMiddle(long queue, long[] mems, long[] order, long[] offsets, int a, int b, int c, float alpha,
                                          boolean accumulate) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (mems.length != 5 || order.length != 5 || offsets.length != 5) {
            throw new IllegalArgumentException("openblas reduceMiddle: expected 5 buffers, their order and offsets");
        }
        if (queue == 0 || mems[0] == 0 || mems[3] == 0 || a < 1 || b < 1 || c < 1) {
            throw new IllegalArgumentException("openblas reduceMiddle: null queue or operand, or an empty shape");
        }
        return nativeEnqueueReduceMiddle(queue, mems, order, offsets, a, b, c, alpha, accumulate);
    }

    private static native int nativeEnqueueReduceMiddle(long queue, long[] mems, long[] order, long[] offsets, int a, int b, int c,
                                                        float alpha, boolean accumulate);

    /**
     * Queues fused attention (org.d2v.backend.Ops#attention) on fp32 tensors as host loops: forward,
     * mems qkv, slopes, ascale, pos, pad, out, lse; backward, those, then dout, dqkv, dscale (0 where
     * absent). dims: batch tokens heads headDim alibi keyPadding accumulate backward. {@code order}
     * and {@code offsets} as for {@link #enqueueGemm}, one per buffer.
     */
    public static int enqueueAttention(long queue, long[] mems, long[] order, long[] offsets, int[] dims, float scale,
                                       long dropThreshold, float dropScale, long seed, long offset) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        if (dims.length != 8) throw new IllegalArgumentException("openblas attention: expected 8 dimensions");
        int n = dims[7] != 0 ? 10 : 7;
        if (mems.length != n || order.length != n || offsets.length != n) {
            throw new IllegalArgumentException("openblas attention: expected " + n + " buffers, their order and offsets");
        }
        if (queue == 0 || mems[0] == 0 || mems[5] == 0 || mems[6] == 0 || (n == 10 && (mems[7] == 0 || mems[8] == 0))) {
            throw new IllegalArgumentException("openblas attention: null queue or operand");
        }
        return nativeEnqueueAttention(queue, mems, order, offsets, dims, scale, dropThreshold, dropScale, seed, offset);
    }

    private static native int nativeEnqueueAttention(long queue, long[] mems, long[] order, long[] offsets, int[] dims, float scale,
                                                     long dropThreshold, float dropScale, long seed, long offset);

    /**
     * Queues the substitution check: mems A, B, 0, C, 0 whose element 0 holds 1, 2 and 3; the native
     * kernel writes 1 into element 1 of A when each operand reached its own buffer, else 0.
     */
    public static int enqueueProbe(long queue, long[] mems, long[] order, long[] offsets) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("OpenBLAS unavailable: " + why);
        return nativeEnqueueProbe(queue, mems, order, offsets);
    }

    private static native int nativeEnqueueProbe(long queue, long[] mems, long[] order, long[] offsets);

    private static native int nativeEnqueueConv(long queue, long[] mems, long[] order, int[] dims, long[] offsets);

    private static native String nativeLoad(String[] blasNames, String[] openclNames, String coreType);

    private static native String nativeDescribe();

    private static native void nativeSetThreads(int threads);

    private static native void nativeSetHostThreads(int threads, double splitScale, long spinNanos);

    private static native int nativeHostThreads();

    private static native long nativePoolJobs();

    private static native int nativeEnqueueGemm(long queue, long[] mems, long[] order, int[] dims, long[] offsets);
}
