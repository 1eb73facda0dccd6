package org.d2v.backend.opencl;

import java.util.List;
import org.d2v.backend.Backend;
import org.d2v.backend.Device;

/**
 * OpenCL through JOCL: GPUs when a platform offers one, otherwise any device (PoCL on the CPU in
 * CI). The environment variable {@code D2V_OPENCL_DEVICE} picks another: the first device whose
 * "platform / device" description contains it (case-insensitive). The kernels are the portable
 * sources in kernels/, compiled at run time.
 */
public final class OpenClBackend implements Backend {
    static final String DEVICE_ENV = "D2V_OPENCL_DEVICE";

    @Override public String name() { return "opencl"; }

    @Override public int priority() { return 200; }

    @Override
    public Probe probe() {
        try {
            List<OpenClRuntime.Found> found = OpenClRuntime.discover();
            if (found.isEmpty()) return Probe.no("no OpenCL device on any platform");
            StringBuilder s = new StringBuilder();
            for (OpenClRuntime.Found f : found) s.append(s.length() == 0 ? "" : "; ").append(f.description());
            return Probe.yes(s.toString());
        } catch (Throwable t) { // UnsatisfiedLinkError without libOpenCL, CLException without a platform
            return Probe.no("OpenCL unavailable: " + t.getClass().getSimpleName() + ": " + t.getMessage());
        }
    }

    @Override
    public Device open() {
        return new OpenClDevice(new OpenClRuntime(choose(OpenClRuntime.discover(), System.getenv(DEVICE_ENV))));
    }

    /** The first device (GPUs come first), or the first whose description contains {@code wanted}. */
    static OpenClRuntime.Found choose(List<OpenClRuntime.Found> found, String wanted) {
        if (found.isEmpty()) throw new IllegalStateException("opencl: no device found");
        if (wanted == null || wanted.isBlank()) return found.get(0);
        for (OpenClRuntime.Found f : found) {
            if (f.description().toLowerCase(java.util.Locale.ROOT).contains(wanted.toLowerCase(java.util.Locale.ROOT))) return f;
        }
        throw new IllegalStateException(DEVICE_ENV + "=" + wanted + " matches no OpenCL device; found: "
                + found.stream().map(OpenClRuntime.Found::description).toList());
    }
}
