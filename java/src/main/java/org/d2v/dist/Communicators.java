package org.d2v.dist;

import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.cuda.CudaDevice;
import org.d2v.jni.Mpi;
import org.d2v.jni.Nccl;

/**
 * Picks the {@link Communicator} from how the process was launched ({@link Launch}) and what is
 * available: no launcher → {@link SingleProcess}; a launcher → MPI ({@code libd2v_mpi} must be
 * built when more than one process runs); a CUDA device with NCCL loadable → NCCL for tensors
 * and MPI for control.
 */
public final class Communicators {
    public static final String INSTALL_HINT = "install openmpi-bin libopenmpi-dev and rebuild: make native";

    /** The implementation to build, and why (for describe/info). */
    public enum Kind { SINGLE, MPI, NCCL }

    public record Choice(Kind kind, String why) {}

    private Communicators() {}

    /** For {@code device}, configured from the environment ({@link DistOptions#fromEnvironment}). */
    public static Communicator open(Device device) {
        Map<String, String> env = System.getenv();
        return open(device, Launch.detect(env), DistOptions.fromEnvironment(env));
    }

    public static Communicator open(Device device, Launch launch, DistOptions options) {
        boolean cuda = device instanceof CudaDevice;
        Choice c = choose(launch, Mpi.unavailableReason(), cuda, cuda ? Nccl.unavailableReason() : "not a CUDA device", options.engine());
        return switch (c.kind()) {
            case SINGLE -> new SingleProcess(c.why());
            case MPI -> {
                MpiCommunicator control = MpiCommunicator.init(options);
                agree(control, false); // other ranks may have chosen NCCL: every rank votes, whatever its device
                yield control;
            }
            case NCCL -> {
                MpiCommunicator control = MpiCommunicator.init(options);
                if (!agree(control, true)) {
                    if (options.engine() == DistOptions.Engine.NCCL) {
                        throw control.abort("rank " + control.rank() + ": engine nccl asked for, but NCCL does not load on every rank");
                    }
                    yield control;
                }
                try {
                    yield new NcclCommunicator((CudaDevice) device, control);
                } catch (RuntimeException e) {
                    throw control.abort("rank " + control.rank() + ": NCCL did not start: " + e.getMessage());
                }
            }
        };
    }

    /**
     * Whether every rank can use NCCL. Ranks decide from what loads on their own node, and one that
     * went its own way would wait in collectives nobody else calls: they vote over MPI first, and
     * NCCL is used only if all of them can.
     */
    private static boolean agree(MpiCommunicator control, boolean canUseNccl) {
        long[] votes = {canUseNccl ? 1 : 0};
        control.allReduceSum(votes);
        return votes[0] == control.size();
    }

    /** The work of one rank, given its communicator. */
    @FunctionalInterface
    public interface Job {
        void run(Communicator comm) throws Exception;
    }

    /**
     * Runs {@code job} and then closes {@code comm}; if the job throws on any rank of a
     * multi-process job, that rank prints the stack trace and aborts the whole job with the reason.
     * This is the way to end a job: closing the communicator on the way out of a failure (as
     * try-with-resources would) calls MPI_Finalize, which waits for the other ranks, while they wait
     * in the next collective for this one, and the job hangs. In a single process the exception
     * simply propagates.
     */
    public static void run(Communicator comm, Job job) throws Exception {
        try {
            job.run(comm);
        } catch (Throwable t) {
            if (comm.size() <= 1) {
                comm.close();
                throw t;
            }
            t.printStackTrace();
            throw comm.abort("rank " + comm.rank() + " failed: " + t);
        }
        comm.close();
    }

    /**
     * The decision, from plain facts so that it can be tested anywhere: the launch, why MPI or
     * NCCL is unavailable (null: available), whether the device is CUDA, and the engine asked for.
     */
    public static Choice choose(Launch launch, String mpiUnavailable, boolean cuda, String ncclUnavailable, DistOptions.Engine engine) {
        if (!launch.launched()) {
            if (engine == DistOptions.Engine.NCCL) {
                throw new IllegalStateException("engine nccl asked for, but this process was not started by mpirun or srun");
            }
            return new Choice(Kind.SINGLE, "no launcher");
        }
        if (mpiUnavailable != null) {
            if (launch.multiProcess()) {
                throw new IllegalStateException("this process is " + launch.describe() + ", but the native MPI library is not available ("
                        + mpiUnavailable + "): " + INSTALL_HINT);
            }
            return new Choice(Kind.SINGLE, "one process under " + launch.launcher() + "; MPI unavailable: " + mpiUnavailable);
        }
        if (engine == DistOptions.Engine.MPI) return new Choice(Kind.MPI, "engine mpi asked for");
        if (cuda && ncclUnavailable == null) return new Choice(Kind.NCCL, "CUDA device and NCCL available");
        if (engine == DistOptions.Engine.NCCL) {
            throw new IllegalStateException("engine nccl asked for, but " + (cuda ? "NCCL is unavailable: " + ncclUnavailable : "the device is not CUDA"));
        }
        return new Choice(Kind.MPI, cuda ? "NCCL unavailable (" + ncclUnavailable + "): host all-reduce over MPI" : "host all-reduce over MPI");
    }
}
