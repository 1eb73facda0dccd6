package org.d2v.tensor;

import java.util.Arrays;

/** An immutable list of dimensions, row-major. */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
        }
        this.dims = dims;
    }

    public static Shape of(int... dims) { return new Shape(dims.clone()); }

    public int rank() { return dims.length; }

    public int dim(int i) { return dims[i < 0 ? dims.length + i : i]; }

    public int[] dims() { return dims.clone(); }

    public long numel() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Product of the dimensions from {@code from} (inclusive) to the end. */
    public long numelFrom(int from) {
        long n = 1;
        for (int i = from; i < dims.length; i++) n *= dims[i];
        return n;
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() { return Arrays.toString(dims); }
}
