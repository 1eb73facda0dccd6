package org.d2v.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The nvcc output on the classpath: {@code org/d2v/kernels/<program>.fatbin}, listed in
 * {@code cuda-kernels.txt} by kernels/build.sh. A build without nvcc has neither, and then the
 * CUDA backend is unavailable.
 */
final class CudaKernels {
    static final String DIR = "org/d2v/kernels/";
    static final String MANIFEST = DIR + "cuda-kernels.txt";

    private CudaKernels() {}

    /** The programs compiled by nvcc, or an empty list when this build has none. */
    static List<String> programs() {
        try (InputStream in = CudaKernels.class.getClassLoader().getResourceAsStream(MANIFEST)) {
            if (in == null) return List.of();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::trim).filter(s -> !s.isEmpty() && !s.startsWith("#")).toList();
        } catch (IOException e) {
            throw new IllegalStateException("reading " + MANIFEST + ": " + e.getMessage(), e);
        }
    }

    /** The fatbin image of {@code program} ("gemm", or "gemm.bf16" for a storage flavour); a clear error when this build has none. */
    static byte[] fatbin(String program) {
        String path = DIR + program + ".fatbin";
        try (InputStream in = CudaKernels.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                int dot = program.indexOf('.');
                String source = dot < 0 ? program : program.substring(0, dot);
                String flavour = dot < 0 ? "" : " in its " + program.substring(dot + 1) + " storage flavour";
                throw new IllegalStateException("cuda: no " + path + " on the classpath: kernels/" + source
                        + ".cl was not compiled by nvcc" + flavour + " in this build (run `make kernels` with nvcc, then package)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("reading " + path + ": " + e.getMessage(), e);
        }
    }
}
