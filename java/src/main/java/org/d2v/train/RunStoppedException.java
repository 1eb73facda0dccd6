package org.d2v.train;

/**
 * The run was stopped by a signal (SIGINT, SIGTERM) at a step boundary, after a checkpoint of
 * that step was written ({@link SignalStop}). The command exits with 128 + the signal's number.
 */
public final class RunStoppedException extends RuntimeException {
    private final String signal;
    private final int exitCode;
    private final long step;

    public RunStoppedException(String signal, int exitCode, long step, String message) {
        super(message);
        this.signal = signal;
        this.exitCode = exitCode;
        this.step = step;
    }

    /** "SIGINT" or "SIGTERM". */
    public String signal() { return signal; }

    /** 130 for SIGINT, 143 for SIGTERM (the shell's convention: 128 + the signal's number). */
    public int exitCode() { return exitCode; }

    /** The last step that ran (and that the checkpoint holds). */
    public long step() { return step; }
}
