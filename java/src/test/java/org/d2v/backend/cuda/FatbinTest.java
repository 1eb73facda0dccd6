package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The packaged nvcc output (where this build had nvcc): every program's fatbin carries SASS for
 * sm_80 and sm_90 and compute_90 PTX, and the support rules the probe applies to them.
 */
class FatbinTest {

    @Test
    void everyPackagedProgramHasSassForTheMainGpusAndPtxAsFallback() {
        List<String> programs = CudaKernels.programs();
        Assumptions.assumeFalse(programs.isEmpty(), "no CUDA kernels in this build (nvcc was not found at build time)");
        for (String program : programs) {
            Fatbin f = Fatbin.parse(CudaKernels.fatbin(program), program + ".fatbin");
            Set<String> images = f.entries().stream().map(e -> e.ptx() ? "ptx" + e.arch() : "sm" + e.arch())
                    .collect(Collectors.toSet());
            assertEquals(Set.of("sm80", "sm90", "ptx90"), images, program + ": " + f.entries());
        }
    }

    private static Fatbin built() {
        return new Fatbin(List.of(new Fatbin.Entry(false, 80, 1, 8), new Fatbin.Entry(true, 90, 9, 0),
                new Fatbin.Entry(false, 90, 1, 8)));
    }

    @Test
    void sassServesItsMajorVersionAndPtxNeedsADriverThatKnowsIt() {
        Fatbin f = built();
        assertNull(f.unsupportedReason(8, 0, 12000), "A100: sm_80 SASS");
        assertNull(f.unsupportedReason(8, 9, 12000), "L4/4090: sm_80 SASS runs on 8.9");
        assertNull(f.unsupportedReason(9, 0, 12000), "H100/H200: sm_90 SASS on any CUDA 12 driver");
        assertNull(f.unsupportedReason(10, 0, 13000), "B200 with a CUDA 13 driver: JIT from PTX 9.0");
        String old = f.unsupportedReason(10, 0, 12080);
        assertNotNull(old, "PTX 9.0 cannot be JIT-compiled by a CUDA 12.8 driver");
        assertTrue(old.contains("CUDA 13.0 driver") && old.contains("12.8"), old);
        String turing = f.unsupportedReason(7, 5, 13000);
        assertNotNull(turing, "sm_75 has neither SASS nor PTX at or below its architecture");
        assertTrue(turing.contains("sm_75"), turing);
    }

    @Test
    void notAFatbinIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Fatbin.parse(new byte[64], "x.fatbin"));
        assertTrue(e.getMessage().contains("x.fatbin") && e.getMessage().contains("not an nvcc fatbin"), e.getMessage());
    }
}
