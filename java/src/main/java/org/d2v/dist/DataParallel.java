package org.d2v.dist;

import java.util.Map;
import org.d2v.tensor.Tensor;

/**
 * What one data-parallel training step needs from the job, and nothing else: sums over the ranks
 * of the update's sample counts (before the forward passes: the loss is normalised by the global
 * number of masked positions, fairseq's sample_size), of the flat gradient buffer (after the last
 * backward, one all-reduce of the whole buffer), and of the step's small statistics buffer. With
 * one process every call is a no-op. Parameters, teacher and optimizer state are never sent during
 * training: every rank applies the same summed gradient to the same state, so they stay identical
 * ({@link ReplicaCheck} verifies it).
 */
public final class DataParallel {
    /** One process: nothing to sum. */
    public static final DataParallel SINGLE = new DataParallel(new SingleProcess());

    private final Communicator comm;
    private long gradientElements;
    private long gradientNanos;

    public DataParallel(Communicator comm) { this.comm = comm; }

    public Communicator communicator() { return comm; }

    public int rank() { return comm.rank(); }

    public int ranks() { return comm.size(); }

    public boolean isRoot() { return comm.isRoot(); }

    /**
     * Whether any rank says yes. A signal reaches a job's ranks at slightly different moments; all
     * must stop after the same step, or the others would wait for the stopped one in the next sum.
     */
    public boolean anyRank(boolean mine) {
        if (comm.size() <= 1) return mine;
        long[] v = {mine ? 1 : 0};
        comm.allReduceSum(v);
        return v[0] > 0;
    }

    /** Sums host counts over the ranks, in place (samples, masked positions, tokens of the update). */
    public void sumCounts(long[] counts) {
        if (comm.size() > 1) comm.allReduceSum(counts);
    }

    /**
     * Sums the flat gradient buffer over the ranks, in place. On NCCL this is queued on the device's
     * stream (the host does not wait); over MPI it returns when the sum has been uploaded.
     */
    public void sumGradients(Tensor flat) {
        if (comm.size() <= 1) return;
        // The host path downloads the buffer, which waits for the backward anyway: waiting first costs
        // nothing and keeps the backward out of the all-reduce's time. NCCL must not wait.
        if (!(comm instanceof NcclCommunicator)) flat.device().synchronize();
        long t0 = System.nanoTime();
        comm.allReduceSum(flat);
        gradientNanos += System.nanoTime() - t0;
        gradientElements += flat.numel();
    }

    /** Sums the step's statistics (loss terms, collapse-guard sums, flags) over the ranks, in place. */
    public void sumStats(Tensor stats) {
        if (comm.size() > 1) comm.allReduceSum(stats);
    }

    /**
     * Copies every tensor of rank 0's state to the other ranks (once, at the start of a run: the
     * ranks then start from one state even if a backend's initialisation were not deterministic).
     */
    public void broadcastState(Map<String, Tensor> state) {
        if (comm.size() <= 1) return;
        for (Tensor t : state.values()) comm.broadcast(t, 0);
    }

    /**
     * Host seconds spent in gradient all-reduces so far. Over MPI that is the whole transfer plus the
     * wait for the slowest rank to arrive; over NCCL only the time to queue it (the device runs it later).
     */
    public double gradientSeconds() { return gradientNanos * 1e-9; }

    /** Gradient elements all-reduced so far. */
    public long gradientElements() { return gradientElements; }

    public String describe() { return comm.size() <= 1 ? "one process" : comm.describe(); }
}
