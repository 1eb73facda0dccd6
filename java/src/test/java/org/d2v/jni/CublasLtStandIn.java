package org.d2v.jni;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Switches the process's cuBLASLt to native/fakes/fake_cublaslt.c (a CPU stand-in with cuBLASLt's C
 * API, reading and writing host memory at the addresses it is given) and back, for tests outside
 * this package that run d2v's cuBLASLt path on the host.
 */
public final class CublasLtStandIn {
    public static final Path LIBRARY = Path.of("..", "build", "native", "test", "libfake_cublaslt.so").toAbsolutePath();

    private CublasLtStandIn() {}

    /** Null once the stand-in is loaded, else why not (make native builds it with libd2v_gpu). */
    public static String use() {
        if (!Files.isRegularFile(LIBRARY)) return "no " + LIBRARY + " (make native builds it)";
        return CublasLt.probe(new String[] {LIBRARY.toString()});
    }

    /** Back to libcublasLt.so.13 / .so.12 (absent here). */
    public static void restore() { CublasLt.probe(CublasLt.DEFAULT_NAMES.toArray(new String[0])); }
}
