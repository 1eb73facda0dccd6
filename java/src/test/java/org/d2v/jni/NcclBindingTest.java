package org.d2v.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The NCCL binding (loading, unique id, communicator, collectives' arguments, error strings)
 * against native/fakes/fake_nccl.c, a one-rank CPU stand-in with NCCL's C API. Nothing here ran
 * NCCL itself or touched a GPU.
 */
class NcclBindingTest {
    private static final Path FAKE = Path.of("..", "build", "native", "test", "libfake_nccl.so").toAbsolutePath();

    @BeforeAll
    static void loadTheStandIn() {
        if (!Files.isRegularFile(FAKE) || !NativeLibraries.load(NativeLibraries.Library.GPU).loaded()) {
            String why = "no " + FAKE + " or libd2v_gpu (make native builds both)";
            if ("true".equals(System.getenv("CI"))) throw new AssertionError(why);
            Assumptions.abort(why);
        }
        assertNull(Nccl.probe(new String[] {FAKE.toString()}));
    }

    @AfterAll
    static void backToTheDefaults() { Nccl.probe(Nccl.DEFAULT_NAMES.toArray(new String[0])); }

    @Test
    void uniqueIdCommunicatorAndCollectives() {
        assertEquals("2.99.1", Nccl.version());
        assertEquals("NCCL: loaded " + FAKE + " (2.99.1)", Nccl.describe());
        byte[] id = Nccl.uniqueId();
        assertEquals(Nccl.UNIQUE_ID_BYTES, id.length);
        assertTrue(new String(id, 0, 10, StandardCharsets.US_ASCII).equals("fake-nccl:"), "the library's own id comes back whole");
        try (Nccl.Comm comm = Nccl.initRank(1, id, 0)) {
            ByteBuffer b = ByteBuffer.allocateDirect(4 * 2000).order(ByteOrder.nativeOrder());
            for (int i = 0; i < 1000; i++) b.putFloat(4 * i, i * 0.5f);
            long base = NativeHandles.address(b);
            comm.allReduceSum(base, base + 4000, 1000, Nccl.Type.F32, 0); // out of place: the sum over one rank is a copy
            for (int i = 0; i < 1000; i++) assertEquals(i * 0.5f, b.getFloat(4000 + 4 * i));
            comm.broadcast(base + 4000, base, 500, Nccl.Type.BF16, 0, 0); // 500 bf16 = the first 1000 bytes
            assertEquals(0.5f, b.getFloat(4));
            assertNull(comm.asyncError());
            IllegalArgumentException root = assertThrows(IllegalArgumentException.class, () -> comm.broadcast(base, base, 1, Nccl.Type.F32, 1, 0));
            assertTrue(root.getMessage().contains("root 1 of 1"), root.getMessage());
        }
    }

    @Test
    void ncclErrorsComeBackWithItsStringAndLastError() {
        byte[] id = Nccl.uniqueId();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Nccl.initRank(2, id, 1));
        assertEquals("nccl: ncclCommInitRank(rank 1 of 2) failed: invalid usage (5): the CPU stand-in of NCCL runs one rank only", e.getMessage());
        long comm = Nccl.nativeInitRank(1, id, 0);
        IllegalStateException type = assertThrows(IllegalStateException.class, () -> Nccl.nativeAllReduce(comm, 8, 8, 1, 99, 0, 0));
        assertEquals("nccl: ncclAllReduce failed: invalid argument (4): invalid data type", type.getMessage());
        Nccl.nativeDestroy(comm, true);
        assertThrows(IllegalArgumentException.class, () -> Nccl.initRank(1, new byte[3], 0));
    }

    @Test
    void aClosedCommunicatorRefusesWork() {
        Nccl.Comm comm = Nccl.initRank(1, Nccl.uniqueId(), 0);
        comm.close();
        comm.close();
        assertNull(comm.asyncError());
        assertThrows(IllegalStateException.class, () -> comm.allReduceSum(8, 8, 1, Nccl.Type.F32, 0));
    }
}
