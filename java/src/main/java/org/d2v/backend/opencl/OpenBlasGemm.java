package org.d2v.backend.opencl;

import org.d2v.backend.Device;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * matmul on a CPU OpenCL device through a CPU BLAS ({@link OpenBlas}): the product, bias, GELU
 * (d2v's exact erf form, written term for term in native/cpu/openblas.c) and accumulation in one
 * native kernel, queued in order with the device's kernels. The role cuBLASLt plays on CUDA: what
 * the OpenCL compiler makes of the portable GEMM on a CPU reaches ~15 GFLOP/s, a tuned BLAS at the
 * model's shapes 4–6× that (bench/results/profile-after.md).
 *
 * <p>Available where the device is a CPU that runs native kernels and the library loads; fp32
 * operands only (bf16 stays on the portable kernels). Self-checked against the portable GEMM
 * before its first use like every fast variant.
 */
final class OpenBlasGemm extends FastVariant<FastCall.Matmul> {
    static final String NAME = "openblas/sgemm";

    private final OpenClRuntime rt;

    OpenBlasGemm(OpenClRuntime rt) {
        super(NAME, FastCall.Matmul.class, "gemm/gemm_dot, gemm/gemm_outer (+ elementwise/gelu_forward)", Precision.F32);
        this.rt = rt;
    }

    @Override
    public String unavailable() { return unavailableOn(rt); }

    /**
     * Why the host paths cannot serve {@code rt}'s device (not a CPU, no native kernels, no library,
     * or native kernels that do not hand each buffer's address to its own slot), or null. Decided
     * once per runtime: every host-path variant asks.
     */
    static String unavailableOn(OpenClRuntime rt) { return rt.hostPathsUnavailable(() -> probe(rt)); }

    private static String probe(OpenClRuntime rt) {
        if (rt.capabilities().kind() != DeviceCapabilities.Kind.CPU) return "the device is not a CPU (" + rt.capabilities().kind() + ")";
        if (!rt.runsNativeKernels()) return "the OpenCL device runs no native kernels (CL_EXEC_NATIVE_KERNEL)";
        String why = OpenBlas.unavailableReason();
        if (why != null) return why;
        // Three buffers created in order 1, 2, 3, handed over as A = third, B = first, C = second,
        // so the check sees an order other than creation's.
        Device device = rt.device();
        DeviceBuffer[] b = new DeviceBuffer[3];
        try {
            for (int i = 0; i < 3; i++) b[i] = device.allocate(DType.F32, 2);
            device.upload(b[2], 0, new double[] {1, -1});
            device.upload(b[0], 0, new double[] {2, -1});
            device.upload(b[1], 0, new double[] {3, -1});
            Tensor a = Tensor.view(b[2], 0, Shape.of(2)), bb = Tensor.view(b[0], 0, Shape.of(2)), c = Tensor.view(b[1], 0, Shape.of(2));
            long[] mems = {mem(a), mem(bb), 0, mem(c), 0};
            long[] order = {rt.creationOrder(a), rt.creationOrder(bb), 0, rt.creationOrder(c), 0};
            rt.enqueueNative(() -> "native-kernel address check", 24, queue -> OpenBlas.enqueueProbe(queue, mems, order, new long[5]));
            double[] verdict = new double[2];
            device.download(b[2], 0, verdict);
            return verdict[1] == 1.0 ? null : "this OpenCL fills native kernels' address slots in an order libd2v_cpu does not know"
                    + " (the address check failed); the portable kernels run";
        } catch (RuntimeException e) {
            return "the native-kernel address check failed: " + e.getMessage();
        } finally {
            for (DeviceBuffer x : b) if (x != null) x.close();
        }
    }

    @Override
    public String inapplicable(FastCall.Matmul c) {
        for (Tensor t : new Tensor[] {c.a(), c.b(), c.c(), c.preact()}) {
            if (t != null && t.dtype() != DType.F32) return "fp32 operands only, got " + t.dtype();
        }
        MatmulDesc d = c.d();
        if (d.m() == 0 || d.n() == 0 || d.k() == 0 || d.batch() == 0) return "an empty product";
        return null;
    }

    @Override
    public void run(FastCall.Matmul c) {
        MatmulDesc d = c.d();
        long m = d.m(), n = d.n(), k = d.k();
        boolean gelu = d.activation() == MatmulDesc.Activation.GELU;
        long bytes = 4 * (c.a().numel() + c.b().numel() + 2 * c.c().numel() + (c.preact() != null ? c.preact().numel() : 0));
        Tensor preact = gelu ? c.preact() : null;
        long[] mems = {mem(c.a()), mem(c.b()), mem(c.bias()), mem(c.c()), mem(preact)};
        long[] order = {rt.creationOrder(c.a()), rt.creationOrder(c.b()), rt.creationOrder(c.bias()), rt.creationOrder(c.c()),
            rt.creationOrder(preact)};
        rt.enqueueNative(() -> "openblas gemm " + d, bytes, queue -> OpenBlas.enqueueGemm(queue, mems, order,
                d.m(), d.n(), d.k(), d.transA(), d.transB(), d.batch(), gelu, c.accumulate(),
                c.a().offset(), c.b().offset(), c.bias() != null ? c.bias().offset() : 0, c.c().offset(),
                gelu && c.preact() != null ? c.preact().offset() : 0,
                m * k, d.broadcastB() ? 0 : k * n, m * n));
    }

    /** The raw cl_mem of {@code t}'s buffer, 0 for none. */
    static long mem(Tensor t) { return t == null ? 0 : OpenClDevice.mem(t.buffer()).getNativePointer(); }
}
