package org.d2v.tensor;

/** Element types. Kernel backends compute in F32; the reference backend also in F64 (the oracle). */
public enum DType {
    F32(4), F64(8), I32(4);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }

    public boolean isFloating() { return this != I32; }
}
