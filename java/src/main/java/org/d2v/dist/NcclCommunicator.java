package org.d2v.dist;

import org.d2v.backend.cuda.CudaDevice;
import org.d2v.backend.cuda.CudaHandles;
import org.d2v.jni.Nccl;
import org.d2v.tensor.Tensor;

/**
 * Collectives on CUDA device buffers over NCCL, queued on the device's stream (no host wait: they
 * are ordered with the kernels around them), with MPI for everything on the host: the NCCL
 * unique id is made by rank 0 and broadcast over MPI (as llm.c does), and host values, barriers
 * and aborts go through the {@link MpiCommunicator}.
 *
 * <p>A failed or vanished peer does not fail the (already returned) NCCL call: NCCL reports it as
 * the communicator's asynchronous error. A watchdog thread polls it every second and ends the
 * job through MPI with NCCL's text. A peer that hangs without an error is caught by the MPI
 * collectives' timeout at the next host collective. Not run on a GPU yet (none was available).
 */
public final class NcclCommunicator implements Communicator {
    private static final long WATCH_INTERVAL_MS = 1000;

    private final CudaDevice device;
    private final MpiCommunicator control;
    private final Nccl.Comm comm;
    private final long stream;
    private final Thread watchdog;
    private volatile boolean closed;

    /** Joins an NCCL communicator of all of {@code control}'s ranks on {@code device}. */
    public NcclCommunicator(CudaDevice device, MpiCommunicator control) {
        this.device = device;
        this.control = control;
        byte[] id = control.rank() == 0 ? Nccl.uniqueId() : new byte[Nccl.UNIQUE_ID_BYTES];
        control.broadcast(id, 0);
        CudaHandles.makeCurrent(device);
        this.comm = Nccl.initRank(control.size(), id, control.rank());
        this.stream = CudaHandles.stream(device);
        this.watchdog = new Thread(this::watch, "d2v-nccl-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    private void watch() {
        while (!closed) {
            try {
                Thread.sleep(WATCH_INTERVAL_MS);
            } catch (InterruptedException e) {
                return;
            }
            String error = closed ? null : comm.asyncError();
            if (error != null) {
                comm.abort();
                control.abort("NCCL communicator failed on rank " + rank() + " of " + size() + ": " + error);
            }
        }
    }

    @Override public int rank() { return control.rank(); }

    @Override public int size() { return control.size(); }

    @Override public int localRank() { return control.localRank(); }

    @Override
    public String describe() {
        return "nccl: " + Nccl.version() + " on " + device.name() + " for tensors; " + control.describe() + " for control";
    }

    private static Nccl.Type type(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> Nccl.Type.F32;
            case I32 -> Nccl.Type.I32;
            case F64 -> Nccl.Type.F64;
            case BF16 -> throw new IllegalArgumentException("nccl: BF16 tensors are storage for activations and never"
                    + " reduced; gradients and parameters are F32: " + t);
        };
    }

    private long address(Tensor t) {
        if (t.device() != device) throw new IllegalArgumentException("nccl: tensor is not on " + device.name() + ": " + t);
        return CudaHandles.address(t);
    }

    @Override
    public void allReduceSum(Tensor t) {
        live();
        long p = address(t);
        CudaHandles.makeCurrent(device);
        comm.allReduceSum(p, p, t.numel(), type(t), stream);
    }

    @Override
    public void broadcast(Tensor t, int root) {
        live();
        long p = address(t);
        CudaHandles.makeCurrent(device);
        comm.broadcast(p, p, t.numel(), type(t), root, stream);
    }

    @Override public void allReduceSum(double[] values) { control.allReduceSum(values); }

    @Override public void allReduceSum(long[] values) { control.allReduceSum(values); }

    @Override public void broadcast(byte[] bytes, int root) { control.broadcast(bytes, root); }

    @Override public void barrier() { control.barrier(); }

    @Override
    public RuntimeException abort(String reason) {
        comm.abort();
        return control.abort(reason);
    }

    private void live() {
        if (closed) throw new IllegalStateException("nccl communicator used after close");
    }

    /** Waits for queued work, destroys the NCCL communicator, then finalises MPI. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        watchdog.interrupt();
        try {
            watchdog.join(5000); // it must not poll a communicator being destroyed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            device.synchronize();
            comm.close();
        } finally {
            control.close();
        }
    }
}
