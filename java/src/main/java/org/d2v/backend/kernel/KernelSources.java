package org.d2v.backend.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The portable kernel sources on the classpath, {@code org/d2v/kernels/}: program "gemm" is
 * {@code kernels/gemm.cl} (or a CUDA-only {@code kernels/gemm.cu}), and {@code d2v.h} the dialect.
 * Both runtimes read them: OpenCL compiles them, and both parse their kernel signatures.
 */
public final class KernelSources {
    public static final String DIR = "org/d2v/kernels/";

    private KernelSources() {}

    /** The file of {@code program}: {@code <program>.cl}, else {@code <program>.cu}; an error naming both when neither exists. */
    public static String fileOf(String program) {
        for (String ext : new String[] {".cl", ".cu"}) {
            if (KernelSources.class.getClassLoader().getResource(DIR + program + ext) != null) return program + ext;
        }
        throw new IllegalStateException("kernel source " + DIR + program + ".cl (or .cu) is not on the classpath");
    }

    /** The text of {@code file} under {@link #DIR}. */
    public static String read(String file) {
        try (InputStream in = KernelSources.class.getClassLoader().getResourceAsStream(DIR + file)) {
            if (in == null) throw new IllegalStateException("kernel source " + DIR + file + " is not on the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("reading kernel source " + DIR + file + ": " + e.getMessage(), e);
        }
    }
}
