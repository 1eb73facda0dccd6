package org.d2v.backend;

/**
 * A discoverable engine (ServiceLoader, META-INF/services/org.d2v.backend.Backend). Probing must
 * never crash the JVM: a missing driver is reported by {@link #probe()}, not thrown.
 */
public interface Backend {
    /** Short name used on the command line: "reference", "opencl", "cuda". */
    String name();

    /** Higher wins when "auto" chooses: cuda 300, opencl 200, reference 100. */
    int priority();

    /** Whether a device answers, and what was found or why not. */
    Probe probe();

    /** Opens the default device of this backend. */
    Device open();

    /** The outcome of probing a backend: available or not, with a human-readable detail. */
    record Probe(boolean available, String detail) {
        public static Probe yes(String detail) { return new Probe(true, detail); }

        public static Probe no(String reason) { return new Probe(false, reason); }
    }
}
