package org.d2v.data2vec;

import org.d2v.backend.Device;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Small I32 index tensors the model builds per step (positions, gather and scatter indices). */
final class Indices {
    private Indices() {}

    /** [rows, n]: start, start + 1, …, start + n − 1 in every row. */
    static Tensor iota(Device device, int rows, int n, int start) {
        int[] v = new int[rows * n];
        for (int r = 0; r < rows; r++) for (int t = 0; t < n; t++) v[r * n + t] = start + t;
        return Tensor.ofInts(device, Shape.of(rows, n), v);
    }
}
