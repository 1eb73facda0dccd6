package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.Backends;
import org.junit.jupiter.api.Test;

/** d2v info: the backends, the native pieces, cuDNN, and every fast variant with its state. */
class InfoCommandTest {
    @Test
    void listsCudnnAndEachFastVariantWithItsState() throws Exception {
        Captured c = Captured.run(() -> Main.commandLine().execute("info", "--self-check"));
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().lines().anyMatch(l -> l.startsWith("cuDNN: ")), c.out());
        assertTrue(c.out().lines().anyMatch(l -> l.startsWith("cuBLASLt: ")), c.out());
        if (Backends.find("opencl").probe().available()) {
            assertTrue(c.out().contains("fast variants on opencl: "), c.out());
            // on an OpenCL device the CUDA-only kernels are listed as unavailable, with the reason
            assertTrue(c.out().lines().anyMatch(l -> l.contains("norm_vec/layer_norm_forward_vec_f32")
                    && l.contains("unavailable: a CUDA-only kernel")), c.out());
        }
    }
}
