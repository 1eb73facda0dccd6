package org.d2v.backend.cuda;

import static jcuda.jcublas.JCublas2.*;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_N;

import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * A plain F32 SGEMM through cuBLAS on a {@link CudaDevice}'s stream, so the device check can
 * measure whether cuBLAS would pay against the portable GEMM kernel before any op routes to it.
 * cuBLAS is optional (JCublas needs libcublas.so.12): {@link #open} returns null when it does not
 * load. Full FP32 math (no TF32), like the kernels.
 */
public final class CublasGemm implements AutoCloseable {
    private final CudaDevice device;
    private final cublasHandle handle = new cublasHandle();
    private final Pointer one = Pointer.to(new float[] {1f});
    private final Pointer zero = Pointer.to(new float[] {0f});
    private boolean closed;

    private CublasGemm(CudaDevice device) {
        this.device = device;
        JCublas2.setExceptionsEnabled(true);
        device.runtime().makeCurrent();
        cublasCreate(handle);
        cublasSetStream(handle, new cudaStream_t(device.runtime().stream()));
    }

    /** cuBLAS on {@code device}, or null (with the reason in {@link CublasProbe#status()}) when it does not load. */
    public static CublasGemm open(CudaDevice device) {
        if (!CublasProbe.status().startsWith("cuBLAS: loaded")) return null;
        return new CublasGemm(device);
    }

    /** "cuBLAS: loaded …" or "cuBLAS: unavailable (reason)". */
    public static String status() { return CublasProbe.status(); }

    /** c[m×n] = a[m×k] · b[k×n], row-major F32 tensors on the device (as C^T = B^T·A^T in cuBLAS's column-major terms). */
    public void matmul(int m, int n, int k, Tensor a, Tensor b, Tensor c) {
        check(a, (long) m * k, "a");
        check(b, (long) k * n, "b");
        check(c, (long) m * n, "c");
        device.runtime().makeCurrent();
        cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, one, pointer(b), n, pointer(a), k, zero, pointer(c), n);
    }

    private void check(Tensor t, long n, String what) {
        if (t.dtype() != DType.F32 || t.numel() != n || t.device() != device) {
            throw new IllegalArgumentException("cublas matmul: " + what + " must be " + n + " F32 elements on " + device.name()
                    + ", got " + t);
        }
    }

    private static Pointer pointer(Tensor t) {
        return ((CudaBuffer) t.buffer()).pointer().withByteOffset(4L * t.offset());
    }

    public String version() {
        int[] v = new int[1];
        cublasGetVersion(handle, v);
        return v[0] / 10000 + "." + v[0] % 10000 / 100 + "." + v[0] % 100;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.runtime().makeCurrent();
        cublasDestroy(handle);
    }
}
