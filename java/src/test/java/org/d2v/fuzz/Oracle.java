package org.d2v.fuzz;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.HexFormat;
import org.d2v.data.DataLoadException;

/**
 * The property every reader of outside bytes must keep, whatever the bytes: it returns a valid
 * result or throws the project's data exception (an IOException such as DataFormatException or
 * CheckpointException, or DataLoadException) whose message names the file; never another
 * exception or Error (OutOfMemoryError, StackOverflowError, NegativeArraySizeException,
 * ArrayIndexOutOfBoundsException, NullPointerException ...), never more than
 * {@link #ALLOCATION_BUDGET} bytes allocated for one small input (a size field trusted before it
 * is checked shows up here long before it shows up as an OutOfMemoryError), never a hang (the
 * driver's per-case timeout).
 */
final class Oracle {
    /** Bytes one case may allocate: far above what a valid seed-sized input needs, far below a trusted 2 GB size field. */
    static final long ALLOCATION_BUDGET = 256L << 20;

    private static final ThreadLocal<Integer> ACCEPTED = ThreadLocal.withInitial(() -> 0);
    private static final ThreadLocal<List<String>> REFUSALS = ThreadLocal.withInitial(ArrayList::new);

    private Oracle() {}

    /** What the calls on this thread did since the last look: how many accepted their input, and the refusals' messages. */
    record Outcome(int accepted, List<String> refusals) {}

    static Outcome outcome() {
        Outcome o = new Outcome(ACCEPTED.get(), List.copyOf(REFUSALS.get()));
        ACCEPTED.set(0);
        REFUSALS.get().clear();
        return o;
    }

    /** A broken property: what happened, on which input. */
    static final class Finding extends AssertionError {
        Finding(String what, Throwable cause) { super(what, cause); }
    }

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /**
     * Runs one reader call: returns when it gave a result or refused the input properly (an
     * IOException or DataLoadException naming one of {@code names}); throws a Finding otherwise.
     */
    static void attempt(Collection<String> names, Call call) {
        try {
            call.run();
            ACCEPTED.set(ACCEPTED.get() + 1);
        } catch (Finding f) {
            throw f;
        } catch (IOException | DataLoadException e) {
            if (!namesFile(e.getMessage(), names)) throw new Finding(e.getClass().getSimpleName() + " naming none of " + names + ": " + e.getMessage(), e);
            REFUSALS.get().add(e.getMessage());
        } catch (Throwable t) {
            throw new Finding(t.getClass().getName() + ": " + t.getMessage(), t);
        }
    }

    /**
     * A valid result that is not valid after all (a round trip that does not hold, an id out of
     * range). The message is made only on failure: built for every pixel it would be the
     * allocations the budget measures.
     */
    static void require(boolean ok, java.util.function.Supplier<String> what) {
        if (!ok) throw new Finding("accepted input gives a bad result: " + what.get(), null);
    }

    private static boolean namesFile(String message, Collection<String> names) {
        if (message == null) return false;
        for (String n : names) if (message.contains(n)) return true;
        return false;
    }

    /** Runs a whole case on the current thread and checks its allocations. */
    static void runCase(Targets.Target target, byte[] data, Path dir) throws Exception {
        outcome(); // a fresh count for this case
        long before = allocated();
        target.run(data, dir);
        long used = allocated() - before;
        if (used > ALLOCATION_BUDGET + 16L * data.length) {
            throw new Finding(target.name() + ": allocated " + (used >> 20) + " MiB for an input of " + data.length + " bytes", null);
        }
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** The input as a Java literal for a regression test (shortened past 400 bytes). */
    static String hex(byte[] data) {
        String h = HexFormat.of().formatHex(data, 0, Math.min(data.length, 400));
        return "\"" + h + "\"" + (data.length > 400 ? " ... (" + data.length + " bytes)" : "");
    }
}
