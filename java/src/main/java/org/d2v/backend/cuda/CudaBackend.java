package org.d2v.backend.cuda;

import java.util.List;
import org.d2v.backend.Backend;
import org.d2v.backend.Device;

/**
 * CUDA through JCuda's driver API, running the portable kernels that nvcc compiled at build time.
 * Available only with a CUDA driver (libcuda.so.1), a GPU it runs, and the fatbins in this build;
 * probing never throws, whatever is missing.
 */
public final class CudaBackend implements Backend {
    @Override public String name() { return "cuda"; }

    @Override public int priority() { return 300; }

    @Override
    public Probe probe() {
        CudaDriver.Detected d = CudaDriver.detect();
        if (!d.found()) return Probe.no(d.reason());
        List<String> programs = CudaKernels.programs();
        if (programs.isEmpty()) {
            return Probe.no("no CUDA kernels in this build (nvcc was not found at build time); GPU "
                    + d.driver().describe());
        }
        // Every program is compiled for the same targets: the first one tells what this build runs on.
        Fatbin images;
        try {
            images = Fatbin.parse(CudaKernels.fatbin(programs.get(0)), programs.get(0) + ".fatbin");
        } catch (RuntimeException e) {
            return Probe.no("unreadable CUDA kernels in this build: " + e.getMessage());
        }
        CudaDriver gpu = d.driver();
        String unsupported = images.unsupportedReason(gpu.major(), gpu.minor(), gpu.driverVersion());
        if (unsupported != null) return Probe.no(unsupported + "; " + gpu.describe());
        return Probe.yes(gpu.describe() + ", " + programs.size() + " kernel programs (" + images.entries() + "); "
                + CublasProbe.status());
    }

    @Override
    public Device open() {
        Probe p = probe();
        if (!p.available()) throw new IllegalStateException("cuda backend is not available: " + p.detail());
        CudaRuntime runtime = new CudaRuntime(CudaDriver.detect().driver());
        try {
            return new CudaDevice(runtime);
        } catch (RuntimeException | Error e) {
            runtime.close(); // the device never took ownership
            throw e;
        }
    }
}
