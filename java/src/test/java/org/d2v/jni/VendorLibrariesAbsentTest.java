package org.d2v.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cuBLASLt and NCCL where they are absent (as on this CPU-only machine): a clear reason naming each
 * file tried and what the dynamic loader said, an exception rather than a crash when used anyway.
 * Where a library does exist (a GPU machine) those cases skip.
 */
class VendorLibrariesAbsentTest {
    @BeforeAll
    static void needTheGpuBinding() {
        NativeLibraries.Status s = NativeLibraries.load(NativeLibraries.Library.GPU);
        if (!s.loaded() && "true".equals(System.getenv("CI"))) throw new AssertionError("CI builds native/: " + s.describe());
        Assumptions.assumeTrue(s.loaded(), s.describe());
    }

    @AfterAll
    static void backToTheDefaults() {
        CublasLt.probe(CublasLt.DEFAULT_NAMES.toArray(new String[0]));
        Nccl.probe(Nccl.DEFAULT_NAMES.toArray(new String[0]));
    }

    private static boolean present(String soname) {
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64", "/usr/lib64", "/usr/lib"}) {
            if (Files.exists(Path.of(dir, soname))) return true;
        }
        return false;
    }

    @Test
    void cublasLtAbsentNamesBothVersionsAndTheLoadersReason() {
        Assumptions.assumeFalse(present("libcublasLt.so.13") || present("libcublasLt.so.12"), "cuBLASLt is installed here");
        String why = CublasLt.probe(CublasLt.DEFAULT_NAMES.toArray(new String[0]));
        assertEquals("library absent: libcublasLt.so.13: cannot open shared object file: No such file or directory; "
                + "libcublasLt.so.12: cannot open shared object file: No such file or directory", why);
        assertEquals("cuBLASLt: library absent: libcublasLt.so.13: cannot open shared object file: No such file or directory; "
                + "libcublasLt.so.12: cannot open shared object file: No such file or directory", CublasLt.describe());
        NativeUnavailableException e = assertThrows(NativeUnavailableException.class, () -> CublasLt.open());
        assertTrue(e.getMessage().startsWith("cuBLASLt unavailable: library absent: libcublasLt.so.13"), e.getMessage());
    }

    @Test
    void ncclAbsentNamesTheFileAndTheLoadersReason() {
        Assumptions.assumeFalse(present("libnccl.so.2"), "NCCL is installed here");
        String why = Nccl.probe(Nccl.DEFAULT_NAMES.toArray(new String[0]));
        assertEquals("library absent: libnccl.so.2: cannot open shared object file: No such file or directory", why);
        assertEquals("NCCL: library absent: libnccl.so.2: cannot open shared object file: No such file or directory", Nccl.describe());
        NativeUnavailableException e = assertThrows(NativeUnavailableException.class, Nccl::uniqueId);
        assertTrue(e.getMessage().contains("libnccl.so.2: cannot open shared object file"), e.getMessage());
    }

    @Test
    void aLibraryWithoutTheSymbolsSaysWhichAreMissing() {
        // libm loads everywhere and has none of cuBLASLt's or NCCL's entry points.
        String lt = CublasLt.probe(new String[] {"libm.so.6"});
        assertTrue(lt.startsWith("library absent: libm.so.6 has no cublasLtCreate; libm.so.6 has no cublasLtDestroy"), lt);
        String nccl = Nccl.probe(new String[] {"libm.so.6"});
        assertTrue(nccl.startsWith("library absent: libm.so.6 has no ncclGetVersion"), nccl);
    }

    @Test
    void aPathGivenByThePropertyIsTried() {
        String name = "/nonexistent/libcublasLt.so.13";
        assertEquals("library absent: " + name + ": cannot open shared object file: No such file or directory",
                CublasLt.probe(VendorLibrary.names("no.such.property", java.util.List.of(name))));
        System.setProperty("d2v.test.names", " a.so , b.so ");
        try {
            assertEquals(java.util.List.of("a.so", "b.so"), java.util.List.of(VendorLibrary.names("d2v.test.names", java.util.List.of("x"))));
        } finally {
            System.clearProperty("d2v.test.names");
        }
        assertNull(System.getProperty(CublasLt.LIBRARY_PROPERTY), "the suite runs with the default names");
    }
}
