package org.d2v.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;

import org.d2v.backend.MatmulDesc;
import org.d2v.jni.CublasLt;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * The ceilings the device check sets d2v's kernel times against, on a {@link CudaDevice}'s
 * stream: the driver's device-to-device copy ({@code cuMemcpyDtoDAsync}: the memory-bound kernels'
 * target is 85 % of it) and cuBLASLt's bf16 GEMM rate (the tensor-core ceiling; fp32 accumulation).
 * Benchmarks only: no op uses these.
 */
public final class DevicePeaks implements AutoCloseable {
    private final CudaDevice device;
    private CublasLt lt;

    public DevicePeaks(CudaDevice device) { this.device = device; }

    /** Queues a copy of {@code src} into {@code dst} (same size and dtype) through the driver. */
    public void memcpy(Tensor src, Tensor dst) {
        if (src.numel() != dst.numel() || src.dtype() != dst.dtype()) throw new IllegalArgumentException("memcpy: " + src + " to " + dst);
        device.runtime().makeCurrent();
        long bytes = src.numel() * src.dtype().bytes();
        cuMemcpyDtoDAsync(pointer(dst), pointer(src), bytes, device.runtime().stream());
    }

    private static jcuda.driver.CUdeviceptr pointer(Tensor t) {
        return ((CudaBuffer) t.buffer()).pointer().withByteOffset(t.offset() * t.dtype().bytes());
    }

    /** Null when cuBLASLt loads, else why not (then {@link #gemmBf16} cannot run). */
    public static String cublasLtUnavailable() { return CublasLt.unavailableReason(); }

    /**
     * C[m×n] = A[m×k]·B[n×k]ᵀ with bf16 A, B, C (fp32 accumulation), the layout of a linear layer.
     * The operands are F32 tensors of at least half the bf16 element count, read as bf16 pairs
     * (their values do not matter for the rate; fill them with a pattern whose halves are finite).
     */
    public void gemmBf16(int m, int n, int k, Tensor a, Tensor b, Tensor c) {
        need(a, (long) m * k, "A");
        need(b, (long) n * k, "B");
        need(c, (long) m * n, "C");
        device.runtime().makeCurrent();
        if (lt == null) lt = CublasLt.open();
        MatmulDesc d = new MatmulDesc(1, m, n, k, false, true, false, MatmulDesc.Activation.NONE);
        lt.matmul(CublasLt.Gemm.of(d, CublasLt.Type.BF16, CublasLt.Epilogue.NONE), CudaHandles.stream(device),
                CudaHandles.address(a), CudaHandles.address(b), CudaHandles.address(c), 1f, 0f, 0, 0);
    }

    private static void need(Tensor t, long bf16Elements, String what) {
        if (t.dtype() != DType.F32 || 2 * t.numel() < bf16Elements) {
            throw new IllegalArgumentException("gemmBf16: " + what + " must hold " + bf16Elements + " bf16 values, got " + t);
        }
    }

    @Override
    public void close() {
        if (lt != null) lt.close();
        lt = null;
    }
}
