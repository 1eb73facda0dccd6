package org.d2v.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import org.d2v.jni.NativeHandles;
import org.d2v.tensor.Tensor;

/**
 * Raw handles of a {@link CudaDevice} for d2v's own native bindings (cuBLASLt, NCCL in
 * {@code org.d2v.jni}), which take device addresses and streams as {@code long}s.
 */
public final class CudaHandles {
    private CudaHandles() {}

    /** The device address of {@code t}'s first element (its buffer's pointer plus its offset). */
    public static long address(Tensor t) {
        if (!(t.buffer() instanceof CudaBuffer b)) throw new IllegalArgumentException("not a CUDA tensor: " + t);
        CUdeviceptr p = b.pointer();
        return NativeHandles.address(p) + t.offset() * t.dtype().bytes();
    }

    /** The CUstream every launch and copy of {@code device} goes to. */
    public static long stream(CudaDevice device) {
        CUstream s = device.runtime().stream();
        return NativeHandles.address(s);
    }

    /** Makes {@code device}'s context current on the calling thread (before a native call that needs it). */
    public static void makeCurrent(CudaDevice device) { device.runtime().makeCurrent(); }
}
