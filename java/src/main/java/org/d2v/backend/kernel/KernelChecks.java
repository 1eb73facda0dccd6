package org.d2v.backend.kernel;

import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/** Argument checks shared by the attention and convolution launchers: say what is wrong before a kernel reads out of bounds. */
final class KernelChecks {
    private KernelChecks() {}

    /** {@code t} must hold exactly {@code n} elements of {@code dtype}; {@code what} names it in the error. */
    static void require(Tensor t, DType dtype, long n, String what) {
        if (t == null) throw new IllegalArgumentException(what + " is missing");
        if (t.dtype() != dtype) throw new IllegalArgumentException(what + " must be " + dtype + ", got " + t.dtype());
        if (t.numel() != n) throw new IllegalArgumentException(what + " must have " + n + " elements, got " + t.shape());
    }

    /** Kernels index with 32-bit ints (offset included): a larger tensor would wrap around. */
    static void fitsInt(Tensor t, String what) {
        if (t != null && t.offset() + t.numel() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is too large for 32-bit kernel indexing: " + t.shape());
        }
    }

    static long roundUp(long n, long multiple) { return (n + multiple - 1) / multiple * multiple; }
}
