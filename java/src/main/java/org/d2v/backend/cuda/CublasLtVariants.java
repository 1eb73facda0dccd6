package org.d2v.backend.cuda;

import java.util.List;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.backend.kernel.KernelRuntime;
import org.d2v.jni.CublasLt;
import org.d2v.jni.CublasLt.Epilogue;
import org.d2v.jni.CublasLt.Gemm;
import org.d2v.jni.CublasLt.Type;
import org.d2v.tensor.Tensor;

/**
 * cuBLASLt ({@link CublasLt}, through native/) as the fast variants of matmul on a CUDA device, fp32
 * in and out with fp32 accumulation (CUBLAS_COMPUTE_32F, no TF32), each shape on the algorithm it
 * was first given:
 * <ul>
 *   <li>{@code cublaslt/f32-gelu-epilogue}: Linear + GELU in one call (the GELU_AUX_BIAS epilogue,
 *       pre-activation kept). cuBLASLt's GELU is its tanh approximation, about 5e-4 from d2v's exact
 *       erf GELU, so the fp32 self-check is expected to disable it; it is listed first so that a
 *       library whose GELU agrees within 1e-5 would be used;</li>
 *   <li>{@code cublaslt/f32}: the product with the BIAS epilogue (or none), accumulation as beta = 1,
 *       and d2v's own exact GELU kernel on the result where the call asks for one.</li>
 * </ul>
 * Both need the library ({@link CublasLt#unavailableReason()}); a call cuBLASLt does not take as
 * laid out ({@link CublasLt#unsupported}) stays on the portable GEMM. They share one handle (and its
 * 32 MiB workspace), opened at the first call and closed with the device.
 */
public final class CublasLtVariants {
    private CublasLtVariants() {}

    /** What the library calls need from the device: raw addresses, the stream, the context. */
    public interface Access {
        /** The device address of {@code t}'s first element. */
        long address(Tensor t);

        /** The stream every launch of the device goes to (cuBLASLt queues there too, so order is kept). */
        long stream();

        /** Makes the device's context current on this thread. */
        void enter();
    }

    /** Both variants, preferred one first, on {@code rt}'s device through {@code access}, with a workspace of {@code workspaceBytes}. */
    public static List<FastVariant<?>> all(KernelRuntime rt, Access access, long workspaceBytes) {
        Handle handle = new Handle(access, workspaceBytes);
        return List.of(new Bf16Fused(rt, access, handle), new Bf16Plain(rt, access, handle), new Fused(rt, access, handle),
                new Plain(rt, access, handle));
    }

    /** One cuBLASLt handle for both variants, opened when first needed. */
    static final class Handle implements AutoCloseable {
        private final Access access;
        private final long workspaceBytes;
        private CublasLt lt;

        Handle(Access access, long workspaceBytes) {
            this.access = access;
            this.workspaceBytes = workspaceBytes;
        }

        CublasLt get() {
            if (lt == null) {
                access.enter();
                lt = CublasLt.open(workspaceBytes);
            }
            return lt;
        }

        @Override
        public void close() {
            if (lt != null) lt.close();
            lt = null;
        }
    }

    private abstract static class Variant extends FastVariant<FastCall.Matmul> {
        final KernelRuntime rt;
        final Access access;
        final Handle handle;

        Variant(String name, KernelRuntime rt, Access access, Handle handle, String twin) {
            this(name, rt, access, handle, twin, Precision.F32);
        }

        Variant(String name, KernelRuntime rt, Access access, Handle handle, String twin, Precision precision) {
            super(name, FastCall.Matmul.class, twin, precision);
            this.rt = rt;
            this.access = access;
            this.handle = handle;
        }

        @Override
        public String unavailable() {
            String why = CublasLt.unavailableReason();
            return why == null ? null : "cuBLASLt " + why;
        }

        long address(Tensor t) { return t == null ? 0 : access.address(t); }

        /** These are the fp32 GEMMs: a call with other storage dtypes is another variant's. */
        static String notF32(FastCall.Matmul c) {
            for (Tensor t : new Tensor[] {c.a(), c.b(), c.c(), c.preact(), c.bias()}) {
                if (t != null && t.dtype() != org.d2v.tensor.DType.F32) return "a " + t.dtype() + " operand (this is the fp32 GEMM)";
            }
            return null;
        }

        void gemm(Gemm g, Tensor a, Tensor b, Tensor out, boolean accumulate, Tensor bias, Tensor aux) {
            access.enter();
            handle.get().matmul(g, access.stream(), address(a), address(b), address(out), 1f, accumulate ? 1f : 0f,
                    address(bias), address(aux));
        }

        @Override public void close() { handle.close(); }
    }

    /**
     * The bf16 GEMMs take bf16 A and B, and C (with the pre-activation) in bf16, or in fp32 for a
     * gradient accumulating into fp32 (the bf16-f32 flavour); biases are fp32 (d2v's parameters).
     */
    static String notBf16(FastCall.Matmul c) {
        for (Tensor t : new Tensor[] {c.a(), c.b()}) {
            if (t.dtype() != org.d2v.tensor.DType.BF16) return "a " + t.dtype() + " operand (this is the bf16 GEMM)";
        }
        return null;
    }

    static Type outputType(FastCall.Matmul c) { return c.c().dtype() == org.d2v.tensor.DType.BF16 ? Type.BF16 : Type.F32; }

    /**
     * Linear + GELU in bf16 with cuBLASLt's (tanh) GELU epilogue, pre-activation kept: its tanh
     * approximation (about 5e-4 from the exact erf GELU) is well inside a bf16 rounding of the
     * result, so its bf16 self-check may pass where the fp32 one cannot.
     */
    static final class Bf16Fused extends Variant {
        Bf16Fused(KernelRuntime rt, Access access, Handle handle) {
            super("cublaslt/bf16-gelu-epilogue", rt, access, handle, "gemm.bf16/gemm* with its exact GELU", Precision.BF16);
        }

        @Override
        public String inapplicable(FastCall.Matmul c) {
            if (c.d().activation() != MatmulDesc.Activation.GELU) return "no GELU to fuse";
            if (notBf16(c) != null) return notBf16(c);
            if (c.bias() == null || c.preact() == null) return "the GELU_AUX_BIAS epilogue needs a bias and keeps the pre-activation";
            return CublasLt.unsupported(c.d(), Type.BF16, outputType(c), Epilogue.GELU_AUX_BIAS, false);
        }

        @Override
        public void run(FastCall.Matmul c) {
            gemm(new Gemm(c.d(), Type.BF16, outputType(c), Epilogue.GELU_AUX_BIAS, false), c.a(), c.b(), c.c(), false, c.bias(), c.preact());
        }
    }

    /** The bf16 product (+ bias) in cuBLASLt, fp32 accumulation, then d2v's exact GELU where asked. */
    static final class Bf16Plain extends Variant {
        Bf16Plain(KernelRuntime rt, Access access, Handle handle) {
            super("cublaslt/bf16", rt, access, handle, "gemm.bf16(-f32)/gemm, gemm_dot, gemm_outer", Precision.BF16);
        }

        private static Epilogue epilogue(FastCall.Matmul c) { return c.bias() != null ? Epilogue.BIAS : Epilogue.NONE; }

        @Override
        public String inapplicable(FastCall.Matmul c) {
            if (notBf16(c) != null) return notBf16(c);
            return CublasLt.unsupported(c.d().withActivation(MatmulDesc.Activation.NONE), Type.BF16, outputType(c), epilogue(c), false);
        }

        @Override
        public void run(FastCall.Matmul c) {
            boolean gelu = c.d().activation() == MatmulDesc.Activation.GELU;
            Tensor product = gelu && c.preact() != null ? c.preact() : c.c();
            gemm(new Gemm(c.d().withActivation(MatmulDesc.Activation.NONE), Type.BF16, outputType(c), epilogue(c), false), c.a(), c.b(),
                    product, c.accumulate(), c.bias(), null);
            if (gelu) {
                int n = Math.toIntExact(c.c().numel());
                rt.launch("elementwise", "gelu_forward", new long[] {(n + 255L) / 256 * 256}, new long[] {256}, n, product, c.c());
            }
        }
    }

    /** Linear + GELU with cuBLASLt's (tanh) GELU epilogue. */
    static final class Fused extends Variant {
        Fused(KernelRuntime rt, Access access, Handle handle) {
            super("cublaslt/f32-gelu-epilogue", rt, access, handle, "gemm/gemm* with its exact GELU");
        }

        @Override
        public String inapplicable(FastCall.Matmul c) {
            if (c.d().activation() != MatmulDesc.Activation.GELU) return "no GELU to fuse";
            if (notF32(c) != null) return notF32(c);
            if (c.bias() == null || c.preact() == null) return "the GELU_AUX_BIAS epilogue needs a bias and keeps the pre-activation";
            return CublasLt.unsupported(c.d(), Type.F32, Type.F32, Epilogue.GELU_AUX_BIAS, false);
        }

        @Override
        public void run(FastCall.Matmul c) {
            gemm(new Gemm(c.d(), Type.F32, Type.F32, Epilogue.GELU_AUX_BIAS, false), c.a(), c.b(), c.c(), false, c.bias(), c.preact());
        }
    }

    /** The product (+ bias) in cuBLASLt, then d2v's exact GELU where asked. */
    static final class Plain extends Variant {
        Plain(KernelRuntime rt, Access access, Handle handle) { super("cublaslt/f32", rt, access, handle, "gemm/gemm, gemm_dot, gemm_outer"); }

        private static Epilogue epilogue(FastCall.Matmul c) { return c.bias() != null ? Epilogue.BIAS : Epilogue.NONE; }

        @Override
        public String inapplicable(FastCall.Matmul c) {
            if (notF32(c) != null) return notF32(c);
            return CublasLt.unsupported(c.d().withActivation(MatmulDesc.Activation.NONE), Type.F32, Type.F32, epilogue(c), false);
        }

        @Override
        public void run(FastCall.Matmul c) {
            boolean gelu = c.d().activation() == MatmulDesc.Activation.GELU;
            // with GELU the product goes to the pre-activation (or C itself), then GELU reads it into C
            Tensor product = gelu && c.preact() != null ? c.preact() : c.c();
            gemm(Gemm.of(c.d().withActivation(MatmulDesc.Activation.NONE), Type.F32, epilogue(c)), c.a(), c.b(), product,
                    c.accumulate(), c.bias(), null);
            if (gelu) {
                int n = Math.toIntExact(c.c().numel());
                rt.launch("elementwise", "gelu_forward", new long[] {(n + 255L) / 256 * 256}, new long[] {256}, n, product, c.c());
            }
        }
    }
}
