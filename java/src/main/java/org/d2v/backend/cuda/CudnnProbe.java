package org.d2v.backend.cuda;

/**
 * Whether JCudnn (cuDNN 8 through JCuda) loads in this process, for {@code d2v info} and the
 * benchmarks that would use cuDNN as a peer of d2v's decoder conv and attention. cuDNN is never
 * required: no op uses it. Loading JCudnn needs its JNI library (from the JCudnn natives jar, or on
 * java.library.path) and cuDNN 8's libcudnn.so.8; any failure, including an Error from the loader,
 * becomes the reason.
 */
public final class CudnnProbe {
    private static String reason;
    private static long version;
    private static boolean probed;

    private CudnnProbe() {}

    /** Null when JCudnn loaded (then {@link #version()} is cuDNN's), else why not. Probes once. */
    public static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            try {
                version = jcuda.jcudnn.JCudnn.cudnnGetVersion();
                if (version >= 9000) reason = "cuDNN " + versionString(version) + " found, but JCudnn binds cuDNN 8";
            } catch (Throwable t) { // UnsatisfiedLinkError without the JNI library or libcudnn.so.8
                String message = t.getMessage() == null ? "" : t.getMessage().split("\n")[0];
                reason = t.getClass().getSimpleName() + ": " + message + nativesHint();
            }
        }
        return reason;
    }

    /** cuDNN's version number (e.g. 8907), 0 when it did not load. */
    public static synchronized long version() {
        unavailableReason();
        return reason == null ? version : 0;
    }

    /**
     * JCudnn 11.7.0 (the last release, built for cuDNN 8) ships lib/libJCudnn-11.7.0-linux-x86_64.so,
     * but with JCuda 12 on the class path its loader asks for JCudnn-12.0.0: say how to supply it.
     */
    private static String nativesHint() {
        if (CudnnProbe.class.getResource("/lib/libJCudnn-11.7.0-linux-x86_64.so") == null) return "";
        return " (the class path holds JCudnn 11.7.0's JNI library, but JCuda 12's loader asks for JCudnn-12.0.0: a copy under that"
                + " name on java.library.path serves, as bench/device/check.sh provides; it needs cuDNN 8's libcudnn.so.8)";
    }

    static String versionString(long v) { return v / 1000 + "." + v % 1000 / 100 + "." + v % 100; }

    /** One line for {@code d2v info}. Never throws. */
    public static String describe() {
        String why = unavailableReason();
        return why == null ? "cuDNN: " + versionString(version) + " through JCudnn (a benchmark peer only; no op uses it)"
                : "cuDNN: not loaded (a benchmark peer only; no op needs it): " + why;
    }
}
