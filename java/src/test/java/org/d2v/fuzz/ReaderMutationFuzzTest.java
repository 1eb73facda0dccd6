package org.d2v.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of every reader of outside bytes ({@link Targets}) against the
 * {@link Oracle}'s property. In CI: a fixed seed and {@value #CI_CASES} cases per reader. On
 * demand ({@code make fuzz}, or these system properties): {@code -Dd2v.fuzz.cases=N} cases per
 * reader, or {@code -Dd2v.fuzz.seconds=S} seconds per reader; {@code -Dd2v.fuzz.seed=X} another
 * seed; {@code -Dd2v.fuzz.timeout=S} the per-case limit; {@code -Dd2v.fuzz.targets=idx,wav} some
 * readers only; {@code -Dd2v.fuzz.corpus=DIR} also
 * writes every target's seeds there for the coverage-guided run ({@link ReaderFuzzTest}).
 * A failure lists each distinct finding with the case number and the input as hex, ready to
 * become a regression test ({@link FoundCrashesTest}).
 */
class ReaderMutationFuzzTest {
    static final int CI_CASES = 200;
    private static final long SEED = Long.getLong("d2v.fuzz.seed", 20261201L);
    private static final int CASES = Integer.getInteger("d2v.fuzz.cases", CI_CASES);
    private static final long SECONDS = Long.getLong("d2v.fuzz.seconds", 0L);
    private static final long TIMEOUT_S = Long.getLong("d2v.fuzz.timeout", 30L);
    private static final int MAX_REPORTED = 8;

    @TempDir Path tmp;
    private static ExecutorService worker = newWorker();

    @AfterAll
    static void stop() { worker.shutdownNow(); }

    @TestFactory
    Stream<DynamicTest> everyReaderReturnsAValidResultOrANamedDataError() {
        String only = System.getProperty("d2v.fuzz.targets", "all");
        return Targets.ALL.stream().filter(t -> only.equals("all") || List.of(only.split(",")).contains(t.name()))
                .map(t -> DynamicTest.dynamicTest(t.name(), () -> fuzz(t)));
    }

    private void fuzz(Targets.Target t) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(t.name()));
        String corpus = System.getProperty("d2v.fuzz.corpus");
        if (corpus != null) writeSeeds(t, Path.of(corpus));
        int s = 0;
        for (byte[] seed : t.seeds()) {
            Throwable f = runOne(t, seed, dir);
            if (f != null) fail(t.name() + ": a valid seed breaks the property: " + f.getMessage(), f);
            Oracle.Outcome o = worker.submit(Oracle::outcome).get();
            assertTrue(o.accepted() > 0, t.name() + ": seed " + s + " is refused by every call: " + o.refusals());
            s++;
        }
        SplittableRandom rng = new SplittableRandom(SEED ^ t.name().hashCode());
        Mutator mutator = new Mutator(rng);
        List<String> findings = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long t0 = System.nanoTime(), deadline = t0 + TimeUnit.SECONDS.toNanos(SECONDS), cpu0 = workerCpu();
        int cases = 0;
        while (SECONDS > 0 ? System.nanoTime() < deadline : cases < CASES) {
            byte[] input = mutator.mutate(t.seeds(), t.fields());
            Throwable f = runOne(t, input, dir);
            cases++;
            if (f != null && seen.add(signature(f)) && findings.size() < MAX_REPORTED) {
                findings.add("case " + cases + ": " + f.getMessage() + (f.getCause() != null ? " at " + where(f.getCause()) : "")
                        + "\n    input " + Oracle.hex(input));
            }
        }
        System.out.printf("fuzz %-14s %6d cases in %5.1f s (%5.1f s of CPU), %d distinct findings%n", t.name(), cases, (System.nanoTime() - t0) / 1e9,
                (workerCpu() - cpu0) / 1e9, seen.size());
        assertTrue(findings.isEmpty(), t.name() + ": " + seen.size() + " distinct findings in " + cases + " cases (seed " + SEED + "):\n  "
                + String.join("\n  ", findings));
    }

    /** One case on the worker thread with the per-case limit; returns the finding, or null. */
    private static Throwable runOne(Targets.Target t, byte[] input, Path dir) throws InterruptedException {
        Future<?> f = worker.submit(() -> {
            Oracle.runCase(t, input, dir);
            return null;
        });
        try {
            f.get(TIMEOUT_S, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause() instanceof Oracle.Finding ? e.getCause() : new Oracle.Finding("harness failure: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow(); // a stuck reader keeps its thread; later cases get a fresh one
            worker = newWorker();
            return new Oracle.Finding("no result after " + TIMEOUT_S + " s (a loop that does not end?)", null);
        }
    }

    /** CPU time of the case thread so far (wall time on a loaded machine says little). */
    private static long workerCpu() throws Exception {
        return worker.submit(() -> java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime()).get();
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "fuzz-case");
            th.setDaemon(true);
            return th;
        });
    }

    /** Findings are the same when the same exception comes from the same place. */
    private static String signature(Throwable f) {
        Throwable c = f.getCause();
        return c == null ? f.getMessage().replaceAll("\\d+", "N") : c.getClass().getName() + "@" + where(c);
    }

    private static String where(Throwable c) {
        for (StackTraceElement e : c.getStackTrace()) if (e.getClassName().startsWith("org.d2v.") && !e.getClassName().startsWith("org.d2v.fuzz.")) return e.toString();
        return c.getStackTrace().length > 0 ? c.getStackTrace()[0].toString() : "?";
    }

    private static void writeSeeds(Targets.Target t, Path corpus) throws Exception {
        Path d = Files.createDirectories(corpus.resolve(ReaderFuzzTest.method(t.name())));
        int i = 0;
        for (byte[] s : t.seeds()) Files.write(d.resolve("seed-" + i++), s);
    }
}
