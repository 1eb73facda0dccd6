package org.d2v.tensor;

/**
 * Element types. Kernel backends store F32 and BF16 and compute in F32; the reference backend also
 * stores F64 (the oracle) and rounds every store to the tensor's dtype. BF16 is storage only (see
 * {@link Bf16} and docs/precision.md): its arithmetic, statistics and sums run in {@link #compute()}.
 */
public enum DType {
    F32(4), F64(8), I32(4), BF16(2);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }

    public boolean isFloating() { return this != I32; }

    /**
     * The dtype that statistics, sums and losses computed from values of this dtype are kept in:
     * F32 for BF16 (bf16 is storage only), the dtype itself otherwise.
     */
    public DType compute() { return this == BF16 ? F32 : this; }
}
