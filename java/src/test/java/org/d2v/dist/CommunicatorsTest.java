package org.d2v.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.dist.Communicators.Kind;
import org.d2v.dist.DistOptions.Engine;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

class CommunicatorsTest {
    private static final Launch TWO = Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "1",
            "OMPI_COMM_WORLD_LOCAL_RANK", "1"));
    private static final Launch ONE = Launch.detect(Map.of("SLURM_NTASKS", "1", "SLURM_PROCID", "0", "SLURM_LOCALID", "0"));

    @Test
    void launchersAreReadFromTheirVariables() {
        assertEquals(new Launch("Open MPI (mpirun)", 2, 1, 1, "OMPI_COMM_WORLD_SIZE=2"), TWO);
        Launch pmi = Launch.detect(Map.of("PMI_SIZE", "4", "PMI_RANK", "3", "MPI_LOCALRANKID", "1"));
        assertEquals(4, pmi.size());
        assertEquals(3, pmi.rank());
        assertEquals(1, pmi.localRank());
        Launch srun = Launch.detect(Map.of("SLURM_NTASKS", "16", "SLURM_STEP_NUM_TASKS", "8", "SLURM_PROCID", "5", "SLURM_LOCALID", "1"));
        assertEquals(8, srun.size(), "the step's task count, not the allocation's");
        assertEquals("rank 5 of 8 started by SLURM (srun) (SLURM_STEP_NUM_TASKS=8)", srun.describe());
        assertEquals(Launch.SINGLE, Launch.detect(Map.of("SLURM_NTASKS", "4")), "a batch script's shell is one process");
        assertEquals(Launch.SINGLE, Launch.detect(Map.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Launch.detect(Map.of("OMPI_COMM_WORLD_SIZE", "two")));
        assertEquals("launcher variable OMPI_COMM_WORLD_SIZE=two is not a number", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Launch.detect(Map.of("PMI_SIZE", "2", "PMI_RANK", "2")));
    }

    @Test
    void theChoiceFollowsTheLaunchAndWhatLoads() {
        assertEquals(Kind.SINGLE, Communicators.choose(Launch.SINGLE, "not built", true, "absent", Engine.AUTO).kind());
        assertEquals(Kind.MPI, Communicators.choose(TWO, null, false, "not a CUDA device", Engine.AUTO).kind());
        assertEquals(Kind.NCCL, Communicators.choose(TWO, null, true, null, Engine.AUTO).kind());
        assertEquals(Kind.MPI, Communicators.choose(TWO, null, true, null, Engine.MPI).kind(), "MPI as the baseline on CUDA");
        Communicators.Choice fallback = Communicators.choose(TWO, null, true, "library absent: libnccl.so.2: cannot open", Engine.AUTO);
        assertEquals(Kind.MPI, fallback.kind());
        assertTrue(fallback.why().contains("libnccl.so.2"), fallback.why());
        assertEquals(Kind.SINGLE, Communicators.choose(ONE, "native library not built: mpicc not found", false, "x", Engine.AUTO).kind(),
                "one process under srun runs without MPI");
    }

    @Test
    void aMultiProcessLaunchWithoutTheMpiLibrarySaysWhatToInstall() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Communicators.choose(TWO,
                "libd2v_mpi.so (MPI bindings): native library not built: mpicc not found", false, "x", Engine.AUTO));
        assertEquals("this process is rank 1 of 2 started by Open MPI (mpirun) (OMPI_COMM_WORLD_SIZE=2), but the native MPI library is not "
                + "available (libd2v_mpi.so (MPI bindings): native library not built: mpicc not found): install openmpi-bin libopenmpi-dev "
                + "and rebuild: make native", e.getMessage());
        IllegalStateException nccl = assertThrows(IllegalStateException.class,
                () -> Communicators.choose(TWO, null, true, "library absent: libnccl.so.2", Engine.NCCL));
        assertTrue(nccl.getMessage().contains("engine nccl asked for, but NCCL is unavailable: library absent: libnccl.so.2"), nccl.getMessage());
    }

    @Test
    void optionsFromTheEnvironmentAndTheirErrors() {
        assertEquals(DistOptions.defaults(), DistOptions.fromEnvironment(Map.of()));
        assertEquals(new DistOptions(30, Engine.MPI), DistOptions.fromEnvironment(Map.of("D2V_COLLECTIVE_TIMEOUT", "30", "D2V_DIST_ENGINE", "mpi")));
        assertEquals(0, DistOptions.fromEnvironment(Map.of("D2V_COLLECTIVE_TIMEOUT", "0")).timeoutSeconds());
        assertEquals("D2V_COLLECTIVE_TIMEOUT=soon is not a number of seconds",
                assertThrows(IllegalArgumentException.class, () -> DistOptions.fromEnvironment(Map.of("D2V_COLLECTIVE_TIMEOUT", "soon"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DistOptions.fromEnvironment(Map.of("D2V_COLLECTIVE_TIMEOUT", "-1")))
                .getMessage().startsWith("D2V_COLLECTIVE_TIMEOUT=-1: collective timeout must be"));
        assertEquals("D2V_DIST_ENGINE=gloo: expected auto, mpi or nccl",
                assertThrows(IllegalArgumentException.class, () -> DistOptions.fromEnvironment(Map.of("D2V_DIST_ENGINE", "gloo"))).getMessage());
    }

    @Test
    void aSingleProcessLeavesValuesAsTheyAre() throws Exception {
        ReferenceDevice dev = new ReferenceDevice(DType.F32);
        Communicator comm = Communicators.open(dev, Launch.SINGLE, DistOptions.defaults());
        assertTrue(comm instanceof SingleProcess, comm.describe());
        assertEquals("single process (no launcher)", comm.describe());
        try (Tensor t = Tensor.of(dev, DType.F32, Shape.of(3), new double[] {1, 2, 3})) {
            comm.allReduceSum(t);
            comm.broadcast(t, 0);
            assertEquals(java.util.List.of(1.0, 2.0, 3.0), java.util.Arrays.stream(t.toDoubles()).boxed().toList());
            assertThrows(IllegalArgumentException.class, () -> comm.broadcast(t, 1));
        }
        double[] v = {4};
        comm.allReduceSum(v);
        assertEquals(4, v[0]);
        comm.barrier();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Communicators.run(comm, c -> { throw new IllegalStateException("job failed"); }));
        assertEquals("job failed", e.getMessage(), "one process: the exception propagates");
    }
}
