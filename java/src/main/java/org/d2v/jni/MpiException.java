package org.d2v.jni;

/**
 * An MPI call failed; the message carries MPI's error string. {@link #timedOut()} says a
 * collective did not complete within its timeout: the collective is still pending and cannot be
 * cancelled, so this process can no longer communicate and the job must be aborted.
 */
public final class MpiException extends RuntimeException {
    private final boolean timedOut;

    public MpiException(String message, boolean timedOut) {
        super(message);
        this.timedOut = timedOut;
    }

    public boolean timedOut() { return timedOut; }
}
