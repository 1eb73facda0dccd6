package org.d2v.jni;

import java.util.ArrayList;
import java.util.List;

/** What {@code d2v info} lists about the native pieces: each library's status, with the reason where one is missing. */
public final class NativeInfo {
    private NativeInfo() {}

    /**
     * e.g. "libd2v_gpu.so (cuBLASLt and NCCL bindings): loaded from …", "cuBLASLt: library absent:
     * libcublasLt.so.13: cannot open shared object file: …", "MPI: Open MPI v4.1.4". Never throws.
     */
    public static List<String> lines() {
        List<String> out = new ArrayList<>();
        for (NativeLibraries.Library lib : NativeLibraries.Library.values()) out.add(NativeLibraries.load(lib).describe());
        out.add(CublasLt.describe() + (CublasLt.unavailableReason() == null
                ? " (matmul on CUDA, after its self-check: see the fast variants)" : ""));
        out.add(Nccl.describe());
        out.add(OpenBlas.describe() + (OpenBlas.unavailableReason() == null
                ? " (matmul on a CPU OpenCL device, after its self-check: see the fast variants)" : ""));
        String mpi = Mpi.unavailableReason();
        out.add(mpi == null ? "MPI: " + Mpi.libraryVersion().split(", package")[0] : "MPI: not built (" + mpi + ")");
        return out;
    }
}
