package org.d2v.backend.cuda;

import java.util.Map;
import org.d2v.dist.Launch;

/**
 * Which of the visible GPUs this process opens. One process per GPU: a process started by mpirun
 * or srun opens the GPU of its local rank among those it sees; a process that sees one GPU (the
 * launcher or the user gave each rank its own with CUDA_VISIBLE_DEVICES, as {@code srun
 * --gpus-per-task 1} does) opens that one; {@value #VARIABLE} overrides both.
 */
final class CudaOrdinal {
    /** Environment variable: the ordinal to open, among the visible GPUs. */
    static final String VARIABLE = "D2V_CUDA_DEVICE";

    private CudaOrdinal() {}

    static int choose(int visible, Map<String, String> env) {
        if (visible < 1) throw new IllegalArgumentException("no GPU visible");
        String forced = env.get(VARIABLE);
        if (forced != null && !forced.isBlank()) {
            int k;
            try {
                k = Integer.parseInt(forced.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(VARIABLE + "=" + forced + " is not a GPU number");
            }
            if (k < 0 || k >= visible) throw new IllegalArgumentException(VARIABLE + "=" + forced + ", but " + visible + " GPU(s) are visible");
            return k;
        }
        Launch launch = Launch.detect(env);
        if (!launch.launched() || visible == 1) return 0;
        if (launch.localRank() >= visible) {
            throw new IllegalArgumentException("this process is local rank " + launch.localRank() + " (" + launch.describe() + ") but only "
                    + visible + " GPU(s) are visible: start at most one process per GPU on each node, or give each rank its GPU with "
                    + "CUDA_VISIBLE_DEVICES");
        }
        return launch.localRank();
    }
}
