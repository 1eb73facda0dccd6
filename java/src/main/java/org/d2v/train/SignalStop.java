package org.d2v.train;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT (Ctrl-C) and SIGTERM during a run. The first asks the training loop to stop: it finishes
 * the step that is running, checks it, writes a checkpoint of it, says where and how to resume, and
 * ends with {@link RunStoppedException} (exit 130 or 143). A second signal exits at once
 * ({@link Runtime#halt}): a checkpoint being written then stays a temporary folder that the next
 * save removes (checkpoints are written aside and renamed into place), never half a checkpoint
 * under a real name.
 *
 * <p>While installed, these handlers replace the JVM's, whose SIGINT runs the shutdown hooks and
 * exits at once, losing up to a checkpoint interval of work; {@link #close} puts the JVM's back.
 * Where the JVM refuses (run with -Xrs, or a platform without these signals) nothing is installed
 * and signals keep their default effect.
 */
final class SignalStop implements AutoCloseable {
    private static final String[] SIGNALS = {"INT", "TERM"};

    private final PrintStream err;
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private volatile Signal requested;

    private SignalStop(PrintStream err) { this.err = err; }

    /** Handlers for SIGINT and SIGTERM until {@link #close}. */
    static SignalStop install(PrintStream err) {
        SignalStop s = new SignalStop(err);
        for (String name : SIGNALS) {
            try {
                Signal sig = new Signal(name);
                s.previous.put(sig, Signal.handle(sig, s::handle));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the JVM reserves it (-Xrs) or the OS lacks it: its default effect stays
            }
        }
        return s;
    }

    /** One that never fires (library use, tests): the JVM's handlers stay. */
    static SignalStop none() { return new SignalStop(null); }

    private synchronized void handle(Signal s) {
        if (requested == null) {
            requested = s;
            err.println("d2v: SIG" + s.getName() + ": finishing the current step, then writing a checkpoint (send it again to exit at once)");
            err.flush();
            return;
        }
        err.println("d2v: second SIG" + s.getName() + ": exiting at once; the checkpoints stay as they were (each is written aside and "
                + "renamed into place, so none is half-written)");
        err.flush();
        Runtime.getRuntime().halt(128 + s.getNumber());
    }

    /** "SIGINT" or "SIGTERM" once one arrived, else null. */
    String requested() {
        Signal s = requested;
        return s == null ? null : "SIG" + s.getName();
    }

    /** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM. */
    int exitCode() {
        Signal s = requested;
        return s == null ? 0 : 128 + s.getNumber();
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
        previous.clear();
    }
}
