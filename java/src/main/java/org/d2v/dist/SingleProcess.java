package org.d2v.dist;

import org.d2v.tensor.Tensor;

/** A job of one process: every collective is the identity. */
public final class SingleProcess implements Communicator {
    private final String note;

    /** {@code note} says why no other implementation was chosen (shown by {@link #describe()}). */
    public SingleProcess(String note) { this.note = note; }

    public SingleProcess() { this("one process"); }

    @Override public int rank() { return 0; }

    @Override public int size() { return 1; }

    @Override public int localRank() { return 0; }

    @Override public String describe() { return "single process (" + note + ")"; }

    @Override public void allReduceSum(Tensor t) { requireNonNull(t); }

    @Override public void allReduceSum(double[] values) { requireNonNull(values); }

    @Override public void allReduceSum(long[] values) { requireNonNull(values); }

    @Override public void broadcast(Tensor t, int root) { requireRoot(root); requireNonNull(t); }

    @Override public void broadcast(byte[] bytes, int root) { requireRoot(root); requireNonNull(bytes); }

    @Override public void barrier() {}

    /** Prints the reason and ends this process (all there is of the job). */
    @Override
    public RuntimeException abort(String reason) {
        System.out.flush();
        System.err.println("d2v: aborting (exit code " + ABORT_EXIT_CODE + "): " + reason);
        System.err.flush();
        Runtime.getRuntime().halt(ABORT_EXIT_CODE);
        return new IllegalStateException("unreachable");
    }

    @Override public void close() {}

    private static void requireRoot(int root) {
        if (root != 0) throw new IllegalArgumentException("broadcast root " + root + " is not a rank of a single-process job");
    }

    private static void requireNonNull(Object o) {
        if (o == null) throw new IllegalArgumentException("collective on null");
    }
}
