package org.d2v.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.d2v.jni.NativeLibraries.Library;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {
    /** What native/build.sh produced for this build: the libraries must then load from the class path. */
    private static final Path BUILT = Path.of("..", "build", "native");

    @Test
    void theLibrariesTheBuildMadeLoadFromTheClassPath() {
        for (Library lib : Library.values()) {
            NativeLibraries.Status s = NativeLibraries.load(lib);
            boolean built = Files.isRegularFile(BUILT.resolve(lib.fileName()));
            if (built || "true".equals(System.getenv("CI"))) {
                assertTrue(s.loaded(), s.describe());
                assertTrue(s.detail().endsWith(lib.fileName()), s.detail());
            } else {
                assertTrue(s.detail().startsWith("native library not built: "), s.describe());
            }
            assertEquals(s, NativeLibraries.load(lib), "loaded once, same answer after");
        }
    }

    @Test
    void aSkippedLibraryReportsTheBuildsReason(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("libd2v_mpi.so.missing"),
                "mpicc not found: install openmpi-bin libopenmpi-dev (Debian: apt-get install openmpi-bin libopenmpi-dev) and rebuild: make native\n");
        NativeLibraries.Status s = NativeLibraries.tryLoad(Library.MPI, dir.toString());
        assertFalse(s.loaded());
        assertEquals("native library not built: mpicc not found: install openmpi-bin libopenmpi-dev (Debian: apt-get install "
                + "openmpi-bin libopenmpi-dev) and rebuild: make native", s.detail());
        assertTrue(s.describe().startsWith("libd2v_mpi.so (MPI bindings): native library not built"), s.describe());
    }

    @Test
    void anAbsentOrBrokenFileIsNamed(@TempDir Path dir) throws Exception {
        NativeLibraries.Status none = NativeLibraries.tryLoad(Library.GPU, dir.toString());
        assertFalse(none.loaded());
        assertTrue(none.detail().contains("no " + dir.resolve("libd2v_gpu.so").toAbsolutePath()), none.detail());

        Files.writeString(dir.resolve("libd2v_gpu.so"), "not an ELF file ".repeat(20));
        NativeLibraries.Status broken = NativeLibraries.tryLoad(Library.GPU, dir.toString());
        assertFalse(broken.loaded());
        assertTrue(broken.detail().contains("did not load") && broken.detail().contains("libd2v_gpu.so"), broken.detail());
        assertTrue(broken.detail().contains("invalid ELF header"), "the loader's own reason is kept: " + broken.detail());
    }

    @Test
    void infoListsEveryPieceWithItsState() {
        java.util.List<String> lines = NativeInfo.lines();
        assertEquals(7, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("libd2v_gpu.so (cuBLASLt and NCCL bindings): "), lines.get(0));
        assertTrue(lines.get(1).startsWith("libd2v_mpi.so (MPI bindings): "), lines.get(1));
        assertTrue(lines.get(2).startsWith("libd2v_cpu.so (OpenBLAS GEMMs as OpenCL native kernels): "), lines.get(2));
        assertTrue(lines.get(3).startsWith("cuBLASLt: "), lines.get(3));
        assertTrue(lines.get(4).startsWith("NCCL: "), lines.get(4));
        assertTrue(lines.get(5).startsWith("OpenBLAS: "), lines.get(5));
        assertTrue(lines.get(6).startsWith("MPI: "), lines.get(6));
        if (NativeLibraries.load(Library.MPI).loaded()) assertTrue(lines.get(6).startsWith("MPI: Open MPI") || lines.get(6).startsWith("MPI: MPICH"), lines.get(6));
    }

    @Test
    void alignmentIsTheLargestPowerOfTwoUpTo256() {
        assertEquals(256, NativeHandles.alignment(0));
        assertEquals(256, NativeHandles.alignment(4096));
        assertEquals(64, NativeHandles.alignment(0x7f00_0000_0040L));
        assertEquals(4, NativeHandles.alignment(0x1004));
        assertEquals(2, NativeHandles.alignment(6));
    }

    @Test
    void jcudaHandlesGiveTheirAddressWithOffset() {
        jcuda.driver.CUdeviceptr p = new jcuda.driver.CUdeviceptr();
        assertEquals(0, NativeHandles.address(p));
        assertEquals(192, NativeHandles.address(p.withByteOffset(64).withByteOffset(128)));
        assertEquals(0, NativeHandles.address((jcuda.NativePointerObject) null));
    }
}
