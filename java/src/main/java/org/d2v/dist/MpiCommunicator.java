package org.d2v.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.d2v.backend.Device;
import org.d2v.jni.Mpi;
import org.d2v.jni.MpiException;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * Collectives over MPI on host memory. A tensor is moved through a direct staging buffer in
 * chunks (download, all-reduce, upload), so this works for every device: the reference and
 * OpenCL devices, and CUDA as the baseline next to NCCL. Sums are computed in the tensor's own
 * type (float32 tensors are summed in float32, as NCCL does).
 *
 * <p>A collective that times out aborts the job with the rank and what it waited for; other MPI
 * errors come back as {@link MpiException}.
 */
public final class MpiCommunicator implements Communicator {
    /** Elements moved per staging round: bounds host memory at any model size (16 MiB of float32). */
    static final int CHUNK = 1 << 22;

    private final double timeout;
    private final boolean owner;
    private final int rank;
    private final int size;
    private final int localRank;
    private final String library;
    private final Mpi.ThreadLevel threads;
    private ByteBuffer staging;
    private boolean closed;

    private MpiCommunicator(double timeout, boolean owner, Mpi.ThreadLevel threads) {
        this.timeout = timeout;
        this.owner = owner;
        this.threads = threads;
        this.rank = Mpi.rank();
        this.size = Mpi.size();
        this.localRank = Mpi.localRank();
        this.library = shortVersion(Mpi.libraryVersion());
    }

    /**
     * Starts MPI (thread level MULTIPLE, so that an abort may come from any thread) and joins
     * MPI_COMM_WORLD. Throws {@link org.d2v.jni.NativeUnavailableException} if libd2v_mpi is not built.
     */
    public static MpiCommunicator init(DistOptions options) {
        if (Mpi.initialized()) return new MpiCommunicator(options.timeoutSeconds(), false, null);
        Mpi.ThreadLevel provided = Mpi.init(Mpi.ThreadLevel.MULTIPLE);
        return new MpiCommunicator(options.timeoutSeconds(), true, provided);
    }

    private static String shortVersion(String v) {
        int cut = v.indexOf(", package");
        return cut > 0 ? v.substring(0, cut) : v;
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    @Override public int localRank() { return localRank; }

    /** Seconds a collective may wait (0: forever). */
    public double timeoutSeconds() { return timeout; }

    @Override
    public String describe() {
        return "mpi: " + library + ", rank " + rank + " of " + size + " (local rank " + localRank + ")"
                + (threads != null && threads != Mpi.ThreadLevel.MULTIPLE ? ", thread level " + threads : "")
                + ", collective timeout " + (timeout > 0 ? fmt(timeout) + " s" : "none");
    }

    private static String fmt(double s) { return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s); }

    @Override
    public void allReduceSum(Tensor t) { moveTensor(t, -1); }

    @Override
    public void broadcast(Tensor t, int root) {
        checkRoot(root);
        moveTensor(t, root);
    }

    /** All-reduce (root < 0) or broadcast of a tensor, through the staging buffer one chunk at a time. */
    private void moveTensor(Tensor t, int root) {
        live();
        Mpi.Type type = switch (t.dtype()) {
            case F32 -> Mpi.Type.F32;
            case F64 -> Mpi.Type.F64;
            case I32 -> Mpi.Type.I32;
            case BF16 -> throw new IllegalArgumentException("mpi: BF16 tensors are storage for activations and never"
                    + " reduced; gradients and parameters are F32: " + t);
        };
        Device device = t.device();
        long total = t.numel();
        ByteBuffer buf = staging((int) Math.min(total, CHUNK) * type.bytes());
        for (long first = 0; first < total; first += CHUNK) {
            int n = (int) Math.min(CHUNK, total - first);
            double[] host = new double[n];
            device.download(t.buffer(), t.offset() + first, host);
            buf.clear();
            for (double v : host) {
                switch (type) {
                    case F32 -> buf.putFloat((float) v);
                    case F64 -> buf.putDouble(v);
                    default -> buf.putInt((int) v);
                }
            }
            guard(() -> {
                if (root < 0) Mpi.allReduceSum(buf, 0, n, type, timeout);
                else Mpi.broadcast(buf, 0, n, type, root, timeout);
            });
            buf.clear();
            for (int i = 0; i < n; i++) {
                host[i] = switch (type) {
                    case F32 -> buf.getFloat();
                    case F64 -> buf.getDouble();
                    default -> buf.getInt();
                };
            }
            device.upload(t.buffer(), t.offset() + first, host);
        }
    }

    private ByteBuffer staging(int bytes) {
        if (staging == null || staging.capacity() < bytes) {
            staging = ByteBuffer.allocateDirect(Math.max(bytes, 1)).order(ByteOrder.nativeOrder());
        }
        return staging;
    }

    @Override
    public void allReduceSum(double[] values) {
        live();
        guard(() -> Mpi.allReduceSum(values, timeout));
    }

    @Override
    public void allReduceSum(long[] values) {
        live();
        guard(() -> Mpi.allReduceSum(values, timeout));
    }

    /** All-reduce of host floats (the benchmark and tests use it). */
    public void allReduceSum(float[] values) {
        live();
        guard(() -> Mpi.allReduceSum(values, timeout));
    }

    /** All-reduce of {@code count} elements of a direct buffer, in place, without staging. */
    public void allReduceSum(ByteBuffer direct, long count, Mpi.Type type) {
        live();
        guard(() -> Mpi.allReduceSum(direct, 0, count, type, timeout));
    }

    @Override
    public void broadcast(byte[] bytes, int root) {
        live();
        checkRoot(root);
        guard(() -> Mpi.broadcast(bytes, root, timeout));
    }

    @Override
    public void barrier() {
        live();
        guard(() -> Mpi.barrier(timeout));
    }

    @Override
    public RuntimeException abort(String reason) {
        Mpi.abort(ABORT_EXIT_CODE, reason);
        return new IllegalStateException("unreachable");
    }

    /** A collective whose wait ran out can never finish: end the job, saying which rank waited for what. */
    private void guard(Runnable collective) {
        try {
            collective.run();
        } catch (MpiException e) {
            if (e.timedOut()) throw abort(e.getMessage() + "; ending the job (timeout set by " + DistOptions.TIMEOUT_VARIABLE + ")");
            throw e;
        }
    }

    private void checkRoot(int root) {
        if (root < 0 || root >= size) throw new IllegalArgumentException("broadcast root " + root + " is not a rank of " + size);
    }

    private void live() {
        if (closed) throw new IllegalStateException("mpi communicator used after close");
    }

    /**
     * MPI_Finalize, if this communicator started MPI, after a barrier with the collective timeout:
     * a rank that closes while others still wait in a collective ends the job after the timeout
     * instead of hanging in MPI_Finalize (see {@link Communicators#run}, which aborts at once).
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (!owner) return;
        try {
            Mpi.shutdown(timeout);
        } catch (MpiException e) {
            if (e.timedOut()) throw abort(e.getMessage() + "; ending the job");
            throw e;
        }
    }
}
