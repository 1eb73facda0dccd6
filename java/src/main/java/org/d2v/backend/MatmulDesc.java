package org.d2v.backend;

/**
 * Batched GEMM: for each of {@code batch} problems, C[m×n] = act(op(A)[m×k] · op(B)[k×n] + bias[n]).
 * A is stored [batch, m, k] ([batch, k, m] if transA); B is stored [batchB, k, n] ([batchB, n, k]
 * if transB) where batchB is 1 when {@code broadcastB} (a shared weight) and {@code batch} otherwise.
 * A Linear layer with PyTorch's weight layout [out, in] is (batch 1, m = rows, k = in, n = out,
 * transB).
 */
public record MatmulDesc(int batch, int m, int n, int k, boolean transA, boolean transB,
                         boolean broadcastB, Activation activation) {
    public enum Activation { NONE, GELU }

    public MatmulDesc {
        if (batch < 1 || m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("bad matmul sizes " + batch + "x" + m + "x" + n + "x" + k);
        }
    }

    public static MatmulDesc of(int m, int n, int k) {
        return new MatmulDesc(1, m, n, k, false, false, false, Activation.NONE);
    }

    public MatmulDesc withTransA(boolean t) { return new MatmulDesc(batch, m, n, k, t, transB, broadcastB, activation); }

    public MatmulDesc withTransB(boolean t) { return new MatmulDesc(batch, m, n, k, transA, t, broadcastB, activation); }

    public MatmulDesc withBatch(int b, boolean broadcast) { return new MatmulDesc(b, m, n, k, transA, transB, broadcast, activation); }

    public MatmulDesc withActivation(Activation a) { return new MatmulDesc(batch, m, n, k, transA, transB, broadcastB, a); }

    public long flops() { return 2L * batch * m * n * k; }
}
