package org.d2v.dist;

import java.util.Map;

/**
 * How this process was started, read from the launcher's environment before MPI starts (the
 * CUDA device must be chosen from the local rank before anything opens it):
 * Open MPI's mpirun (OMPI_COMM_WORLD_SIZE, _RANK, _LOCAL_RANK), an MPICH/Hydra or Intel MPI
 * launcher (PMI_SIZE, PMI_RANK, MPI_LOCALRANKID) or SLURM's srun (SLURM_STEP_NUM_TASKS or
 * SLURM_NTASKS, SLURM_PROCID, SLURM_LOCALID). SLURM counts only where SLURM_PROCID is set: a batch
 * script's own shell has SLURM_NTASKS too, and is a single process.
 */
public record Launch(String launcher, int size, int rank, int localRank, String evidence) {
    public static final Launch SINGLE = new Launch("none", 1, 0, 0, "no launcher variables");

    public Launch {
        if (size < 1 || rank < 0 || rank >= size || localRank < 0) {
            throw new IllegalArgumentException("inconsistent launch: rank " + rank + " of " + size + ", local rank " + localRank
                    + " (" + evidence + ")");
        }
    }

    public static Launch detect(Map<String, String> env) {
        if (env.containsKey("OMPI_COMM_WORLD_SIZE")) {
            return of(env, "Open MPI (mpirun)", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK");
        }
        if (env.containsKey("PMI_SIZE")) return of(env, "an MPI launcher (PMI)", "PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID");
        if (env.containsKey("SLURM_PROCID") && (env.containsKey("SLURM_STEP_NUM_TASKS") || env.containsKey("SLURM_NTASKS"))) {
            String sizeVar = env.containsKey("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
            return of(env, "SLURM (srun)", sizeVar, "SLURM_PROCID", "SLURM_LOCALID");
        }
        return SINGLE;
    }

    private static Launch of(Map<String, String> env, String launcher, String sizeVar, String rankVar, String localVar) {
        int size = number(env, sizeVar, 1);
        int rank = number(env, rankVar, 0);
        int local = number(env, localVar, 0);
        return new Launch(launcher, size, rank, local, sizeVar + "=" + env.get(sizeVar));
    }

    private static int number(Map<String, String> env, String name, int absent) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return absent;
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("launcher variable " + name + "=" + v + " is not a number");
        }
    }

    /** True when started by a launcher at all (even for one process). */
    public boolean launched() { return this != SINGLE && !"none".equals(launcher); }

    public boolean multiProcess() { return size > 1; }

    public String describe() {
        return launched() ? "rank " + rank + " of " + size + " started by " + launcher + " (" + evidence + ")" : "a single process";
    }
}
