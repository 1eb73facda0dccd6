package org.d2v.jni;

import java.util.List;
import org.d2v.backend.MatmulDesc;

/**
 * cuBLASLt GEMMs for the CUDA backend, through {@code libd2v_gpu.so}, which opens
 * {@code libcublasLt.so.13} (then {@code .so.12}; {@value #LIBRARY_PROPERTY} names others) at run
 * time. A {@link Gemm} is d2v's row-major {@link MatmulDesc} plus operand types and an
 * {@link Epilogue}; {@link #matmul} runs it on a CUDA stream with fp32 accumulation
 * (CUBLAS_COMPUTE_32F; TF32 only when a Gemm asks for it).
 *
 * <p>Each distinct plan (shape, layout, types, epilogue, pointer alignments) asks cuBLASLt's
 * heuristic once and keeps its answer, so one shape always runs one algorithm: results repeat
 * run to run on the same GPU and library version. Split-K reductions are restricted to the
 * workspace schemes (no in-place atomics). The workspace belongs to the handle.
 *
 * <p>Pointers are raw device addresses (see {@code CudaHandles.address(Tensor)} in the CUDA
 * backend), the stream a raw CUstream ({@link NativeHandles#address}). The caller's thread must
 * have the device's context current for {@link #open} and {@link #matmul}.
 *
 * <p>Row-major operands, as in {@link MatmulDesc}: A is [batch, m, k] ([batch, k, m] if transA),
 * B [batchB, k, n] ([batchB, n, k] if transB; batchB = 1 when broadcastB), C [batch, m, n],
 * written as C = alpha·op(A)·op(B) + beta·C then the epilogue. cuBLASLt is column-major, so the
 * call is made as Cᵀ = op(B)ᵀ·op(A)ᵀ, which reads the same memory without any copy.
 */
public final class CublasLt implements AutoCloseable {
    /** Comma-separated file names to try instead of libcublasLt.so.13, libcublasLt.so.12. */
    public static final String LIBRARY_PROPERTY = "d2v.cublaslt.library";
    static final List<String> DEFAULT_NAMES = List.of("libcublasLt.so.13", "libcublasLt.so.12");
    static final String[] DRIVER_NAMES = {"libcuda.so.1"};
    /** cuBLASLt's own recommendation for Hopper; plenty for split-K on smaller GPUs. */
    public static final long DEFAULT_WORKSPACE_BYTES = 32L << 20;

    /** Operand element types (cudaDataType values). */
    public enum Type {
        F32(0, 4), BF16(14, 2);

        final int cudaType;
        private final int bytes;

        Type(int cudaType, int bytes) {
            this.cudaType = cudaType;
            this.bytes = bytes;
        }

        public int bytes() { return bytes; }
    }

    /**
     * What happens after the product, in d2v's row-major terms (cuBLASLt's names). The GELU of
     * cuBLASLt is its tanh approximation, not the exact erf form of d2v's kernels: the two differ
     * by up to about 5e-4 absolute, which a caller must accept (or keep the BIAS epilogue and
     * d2v's own GELU).
     */
    public enum Epilogue {
        /** C = alpha·op(A)·op(B) + beta·C. */
        NONE(1, false, false),
        /** ... + bias[n] on every row. */
        BIAS(4, true, false),
        /** pre = ... + bias[n] written to aux [batch, m, n]; C = gelu(pre). The forward of Linear+GELU. */
        GELU_AUX_BIAS(164, true, true),
        /** C = (alpha·op(A)·op(B) + beta·C) ⊙ gelu'(aux). The backward through GELU, aux = its input. */
        DGELU(192, false, true),
        /** As DGELU, and bias[n] = Σ over rows of C: the bias gradient of the pre-activation. */
        DGELU_BGRAD(208, true, true),
        /** C as NONE, and bias[m] = Σ_k op(A)[i, k]: with op(A) = dyᵀ (the weight gradient), the bias gradient. */
        BGRADB(512, true, false);

        final int code;
        private final boolean bias;
        private final boolean aux;

        Epilogue(int code, boolean bias, boolean aux) {
            this.code = code;
            this.bias = bias;
            this.aux = aux;
        }

        public boolean usesBias() { return bias; }

        public boolean usesAux() { return aux; }

        /** Whether bias is written (a gradient) rather than read. */
        public boolean writesBias() { return this == DGELU_BGRAD || this == BGRADB; }
    }

    /**
     * One GEMM: the shape and layout, the types of A/B ({@code inputs}) and of C and the aux
     * buffer ({@code output}; the bias, read or written, is always fp32, as d2v's parameters and
     * their gradients are), the epilogue, and whether fp32 inputs may use TF32 tensor cores.
     * The activation of {@code desc} must agree with the epilogue (GELU only with GELU_AUX_BIAS).
     */
    public record Gemm(MatmulDesc desc, Type inputs, Type output, Epilogue epilogue, boolean tf32) {
        public Gemm {
            String why = unsupported(desc, inputs, output, epilogue, tf32);
            if (why != null) throw new IllegalArgumentException("cublasLt gemm " + desc + ": " + why);
        }

        public static Gemm of(MatmulDesc desc, Type type, Epilogue epilogue) {
            return new Gemm(desc, type, type, epilogue == null ? Epilogue.NONE : epilogue, false);
        }

        /** Elements of bias this GEMM reads or writes (0 without a bias). */
        public long biasLength() {
            if (!epilogue.usesBias()) return 0;
            return epilogue == Epilogue.BGRADB ? desc.m() : desc.n();
        }
    }

    /** Null if cuBLASLt takes this GEMM as d2v lays it out, else why not (for the caller to fall back). */
    public static String unsupported(MatmulDesc d, Type inputs, Type output, Epilogue epilogue, boolean tf32) {
        if (d == null || inputs == null || output == null || epilogue == null) return "missing description";
        if (inputs == Type.F32 && output != Type.F32) return "fp32 inputs need an fp32 output";
        if (tf32 && inputs != Type.F32) return "TF32 applies to fp32 inputs only";
        boolean gelu = d.activation() == MatmulDesc.Activation.GELU;
        if (gelu != (epilogue == Epilogue.GELU_AUX_BIAS)) {
            return "activation " + d.activation() + " needs the GELU_AUX_BIAS epilogue (and only it applies GELU)";
        }
        // The aux matrix is [m, n] row-major: cuBLASLt sees leading dimension n, which it wants divisible by 8.
        if (epilogue.usesAux() && d.n() % 8 != 0) return "the " + epilogue + " epilogue needs n divisible by 8, got n = " + d.n();
        if (epilogue.writesBias() && d.batch() > 1) return "the " + epilogue + " epilogue takes no batch (batch " + d.batch() + ")";
        return null;
    }

    // ---- loading -----------------------------------------------------------------------------------

    private static String failure;
    private static boolean probed;

    /** Loads cuBLASLt once; null when loaded, else the reason (native library not built, or cuBLASLt absent). */
    public static synchronized String unavailableReason() {
        if (!probed) probe(VendorLibrary.names(LIBRARY_PROPERTY, DEFAULT_NAMES));
        return failure;
    }

    /** Loads the first of {@code names} that opens, replacing any earlier load (tests use it to switch libraries). */
    static synchronized String probe(String[] names) {
        probed = true;
        NativeLibraries.Status gpu = NativeLibraries.load(NativeLibraries.Library.GPU);
        if (!gpu.loaded()) {
            failure = gpu.describe();
        } else {
            String why = nativeLoad(names);
            failure = why == null ? null : "library absent: " + why;
        }
        return failure;
    }

    /** For {@code d2v info}: "cuBLASLt: loaded libcublasLt.so.13 (version 130100)", "cuBLASLt: not built (...)", ... */
    public static String describe() {
        String why = unavailableReason();
        if (why == null) return "cuBLASLt: loaded " + nativeLoadedName() + " (version " + nativeVersion() + ")";
        return why.startsWith("library absent") ? "cuBLASLt: " + why : "cuBLASLt: not built (" + why + ")";
    }

    // ---- a handle ----------------------------------------------------------------------------------

    private long handle;

    private CublasLt(long handle) { this.handle = handle; }

    /** A handle with a workspace of {@code workspaceBytes} (0: none) on the current CUDA context. */
    public static CublasLt open(long workspaceBytes) {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("cuBLASLt unavailable: " + why);
        if (workspaceBytes < 0) throw new IllegalArgumentException("cublasLt: negative workspace " + workspaceBytes);
        return new CublasLt(nativeCreate(workspaceBytes, DRIVER_NAMES));
    }

    public static CublasLt open() { return open(DEFAULT_WORKSPACE_BYTES); }

    /**
     * Queues {@code g} on {@code stream}: C = epilogue(alpha·op(A)·op(B) + beta·C). {@code c} is
     * read when beta ≠ 0 and written; {@code bias} and {@code aux} are needed as
     * {@link Epilogue#usesBias()}/{@link Epilogue#usesAux()} say (0 otherwise).
     */
    public synchronized void matmul(Gemm g, long stream, long a, long b, long c, float alpha, float beta, long bias, long aux) {
        if (handle == 0) throw new IllegalStateException("cublasLt: handle used after close");
        if (a == 0 || b == 0 || c == 0) throw new IllegalArgumentException("cublasLt gemm " + g.desc() + ": null operand pointer");
        if (g.epilogue().usesBias() != (bias != 0)) {
            throw new IllegalArgumentException("cublasLt gemm: the " + g.epilogue() + " epilogue " + (bias == 0 ? "needs" : "takes no") + " bias");
        }
        if (g.epilogue().usesAux() != (aux != 0)) {
            throw new IllegalArgumentException("cublasLt gemm: the " + g.epilogue() + " epilogue " + (aux == 0 ? "needs" : "takes no") + " aux buffer");
        }
        Plan p = Plan.of(g, a, b, c);
        try {
            // cuBLASLt's A is d2v's B and the other way round (the transposed product, see the class comment).
            nativeMatmul(handle, p.key(), b, a, c, c, alpha, beta, bias, aux, stream);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + " [gemm " + g.desc() + ", " + g.inputs() + "→" + g.output()
                    + ", " + g.epilogue() + "]", e);
        }
    }

    long handle() { return handle; }

    /** Distinct plans (each with its pinned algorithm) so far. */
    public synchronized int plans() {
        if (handle == 0) throw new IllegalStateException("cublasLt: handle used after close");
        return nativePlanCount(handle);
    }

    /** The pinned algorithm of {@code g} at these pointers (8 opaque words, then its workspace bytes), or null if not run yet. */
    public synchronized long[] algorithm(Gemm g, long a, long b, long c) {
        if (handle == 0) throw new IllegalStateException("cublasLt: handle used after close");
        return nativeAlgorithm(handle, Plan.of(g, a, b, c).key());
    }

    @Override
    public synchronized void close() {
        if (handle == 0) return;
        long h = handle;
        handle = 0;
        nativeDestroy(h);
    }

    static native String nativeLoad(String[] names);

    static native String nativeLoadedName();

    static native long nativeVersion();

    private static native long nativeCreate(long workspaceBytes, String[] driverNames);

    private static native void nativeDestroy(long handle);

    static native void nativeMatmul(long handle, long[] plan, long a, long b, long c, long d, float alpha, float beta,
                                            long bias, long aux, long stream);

    private static native int nativePlanCount(long handle);

    private static native long[] nativeAlgorithm(long handle, long[] plan);
}
