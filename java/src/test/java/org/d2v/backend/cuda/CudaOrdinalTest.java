package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which GPU a process opens: one process per GPU, by local rank; no GPU is needed to test the rule. */
class CudaOrdinalTest {
    @Test
    void theLocalRankPicksItsGpu() {
        assertEquals(0, CudaOrdinal.choose(8, Map.of()), "one process, no launcher: device 0");
        Map<String, String> rank3 = Map.of("OMPI_COMM_WORLD_SIZE", "16", "OMPI_COMM_WORLD_RANK", "11", "OMPI_COMM_WORLD_LOCAL_RANK", "3");
        assertEquals(3, CudaOrdinal.choose(8, rank3), "mpirun: the local rank's GPU");
        assertEquals(0, CudaOrdinal.choose(1, rank3), "one visible GPU (CUDA_VISIBLE_DEVICES per rank): that one");
        assertEquals(2, CudaOrdinal.choose(4, Map.of("SLURM_PROCID", "6", "SLURM_NTASKS", "8", "SLURM_LOCALID", "2")), "srun");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaOrdinal.choose(2, rank3));
        assertTrue(e.getMessage().contains("local rank 3") && e.getMessage().contains("only 2 GPU(s) are visible"), e.getMessage());
        assertEquals(1, CudaOrdinal.choose(2, Map.of(CudaOrdinal.VARIABLE, "1", "OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "0")));
        assertThrows(IllegalArgumentException.class, () -> CudaOrdinal.choose(2, Map.of(CudaOrdinal.VARIABLE, "2")));
        assertThrows(IllegalArgumentException.class, () -> CudaOrdinal.choose(2, Map.of(CudaOrdinal.VARIABLE, "first")));
    }
}
