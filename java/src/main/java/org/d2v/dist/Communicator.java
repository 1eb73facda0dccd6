package org.d2v.dist;

import org.d2v.tensor.Tensor;

/**
 * The processes of one data-parallel job and their collectives; the training loop sees only this.
 * {@link Communicators#open} picks the implementation: {@link SingleProcess} (one process),
 * {@link MpiCommunicator} (host memory over MPI) or {@link NcclCommunicator} (CUDA buffers over
 * NCCL, with MPI for control).
 *
 * <p>Every rank must make the same collective calls in the same order with the same sizes.
 * Collectives on tensors work in place; on CUDA with NCCL they are queued on the device's stream
 * (ordered with the kernels before and after, no host wait), elsewhere they return when done.
 * A collective that does not complete within the configured timeout ({@link DistOptions}) ends
 * the job through {@link #abort}: a dead or hung peer never means a silent hang.
 */
public interface Communicator extends AutoCloseable {
    /** Exit code of a job ended by {@link #abort}. */
    int ABORT_EXIT_CODE = 70;

    /** This process's rank, 0 … size − 1. */
    int rank();

    /** Number of processes in the job. */
    int size();

    /** The rank among the processes on this node (picks the GPU). */
    int localRank();

    default boolean isRoot() { return rank() == 0; }

    /** One line for logs and {@code d2v info}: implementation, library, rank, size, timeout. */
    String describe();

    /** Replaces {@code t} on every rank by the sum over all ranks of it (same shape everywhere). */
    void allReduceSum(Tensor t);

    /** Sums host values over all ranks, in place (loss terms, sample counts). */
    void allReduceSum(double[] values);

    /** Sums host integers over all ranks, in place, exactly (counts, checksums). */
    void allReduceSum(long[] values);

    /** Copies {@code t} of rank {@code root} into {@code t} on every rank. */
    void broadcast(Tensor t, int root);

    /** Copies the bytes of rank {@code root} into {@code bytes} on every rank (same length everywhere). */
    void broadcast(byte[] bytes, int root);

    /** Returns on each rank once every rank has called it (host work only; queued GPU work may still run). */
    void barrier();

    /**
     * Ends every rank of the job now, printing this rank and the reason, with exit code
     * {@link #ABORT_EXIT_CODE}. Never returns; declared with a result so that callers can write
     * {@code throw comm.abort(reason)} and the compiler knows the path ends.
     */
    RuntimeException abort(String reason);

    /** Leaves the job cleanly; every rank must call it at the end (MPI_Finalize). */
    @Override void close();
}
