package org.d2v.backend.opencl;

import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * The operands of one host kernel (OpenBlas.enqueue*) as the native side takes them: each slot's
 * cl_mem handle, its place in the runtime's creation order (PoCL hands a native kernel its buffers'
 * host addresses sorted by creation, NativeKernelAddressCheckTest) and its element offset; a null
 * tensor is an absent operand (zeros).
 */
record NativeOperands(long[] mems, long[] order, long[] offsets) {
    static NativeOperands of(OpenClRuntime rt, Tensor... slots) {
        int n = slots.length;
        long[] mems = new long[n], order = new long[n], offsets = new long[n];
        for (int i = 0; i < n; i++) {
            mems[i] = OpenBlasGemm.mem(slots[i]);
            order[i] = rt.creationOrder(slots[i]);
            offsets[i] = slots[i] != null ? slots[i].offset() : 0;
        }
        return new NativeOperands(mems, order, offsets);
    }

    /** Bytes the given fp32 tensors hold (nulls skipped): the traffic a profile credits to the kernel. */
    static long bytes(Tensor... ts) {
        long b = 0;
        for (Tensor t : ts) if (t != null) b += 4 * t.numel();
        return b;
    }

    /** Null when every given tensor is fp32, else why a host kernel cannot take them. */
    static String notF32(Tensor... ts) {
        for (Tensor t : ts) if (t != null && t.dtype() != DType.F32) return "fp32 tensors only, got " + t.dtype();
        return null;
    }
}
