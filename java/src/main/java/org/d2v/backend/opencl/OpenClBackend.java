package org.d2v.backend.opencl;

import java.util.List;
import org.d2v.backend.Backend;
import org.d2v.backend.Device;

/**
 * OpenCL through JOCL: GPUs when a platform offers one, otherwise any device (PoCL on the CPU in
 * CI). The kernels are the portable sources in kernels/, compiled at run time.
 */
public final class OpenClBackend implements Backend {
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
        List<OpenClRuntime.Found> found = OpenClRuntime.discover();
        if (found.isEmpty()) throw new IllegalStateException("opencl: no device found");
        return new OpenClDevice(new OpenClRuntime(found.get(0)));
    }
}
