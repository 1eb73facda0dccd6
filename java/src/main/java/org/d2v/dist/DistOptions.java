package org.d2v.dist;

import java.util.Locale;
import java.util.Map;

/**
 * How {@link Communicators#open} sets up the job.
 *
 * @param timeoutSeconds the longest any one collective may wait before the job is aborted (0: forever).
 *        It must cover the longest gap between ranks reaching a collective: a checkpoint written
 *        by rank 0 while the others wait, a slow first step. Default {@value #DEFAULT_TIMEOUT_SECONDS} s.
 * @param engine which implementation moves tensors: {@code AUTO} (NCCL for CUDA devices where it loads, else
 *        MPI), or {@code MPI} / {@code NCCL} to insist (NCCL unavailable is then an error).
 */
public record DistOptions(double timeoutSeconds, Engine engine) {
    public enum Engine { AUTO, MPI, NCCL }

    /** Environment variable: collective timeout in seconds (0: none). */
    public static final String TIMEOUT_VARIABLE = "D2V_COLLECTIVE_TIMEOUT";
    /** Environment variable: auto, mpi or nccl. */
    public static final String ENGINE_VARIABLE = "D2V_DIST_ENGINE";
    public static final double DEFAULT_TIMEOUT_SECONDS = 600;

    public DistOptions {
        if (!(timeoutSeconds >= 0) || Double.isInfinite(timeoutSeconds)) {
            throw new IllegalArgumentException("collective timeout must be a finite number of seconds ≥ 0, got " + timeoutSeconds);
        }
        if (engine == null) throw new IllegalArgumentException("no engine");
    }

    public static DistOptions defaults() { return new DistOptions(DEFAULT_TIMEOUT_SECONDS, Engine.AUTO); }

    public DistOptions withTimeout(double seconds) { return new DistOptions(seconds, engine); }

    public DistOptions withEngine(Engine e) { return new DistOptions(timeoutSeconds, e); }

    /** The defaults, overridden by {@value #TIMEOUT_VARIABLE} and {@value #ENGINE_VARIABLE}. */
    public static DistOptions fromEnvironment(Map<String, String> env) {
        DistOptions o = defaults();
        String t = env.get(TIMEOUT_VARIABLE);
        if (t != null && !t.isBlank()) {
            double seconds;
            try {
                seconds = Double.parseDouble(t.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(TIMEOUT_VARIABLE + "=" + t + " is not a number of seconds");
            }
            try {
                o = o.withTimeout(seconds);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(TIMEOUT_VARIABLE + "=" + t + ": " + e.getMessage());
            }
        }
        String e = env.get(ENGINE_VARIABLE);
        if (e != null && !e.isBlank()) {
            try {
                o = o.withEngine(Engine.valueOf(e.strip().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException(ENGINE_VARIABLE + "=" + e + ": expected auto, mpi or nccl");
            }
        }
        return o;
    }
}
