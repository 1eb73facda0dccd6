package org.d2v.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.d2v.jni.Mpi;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two real processes on this machine: {@code mpirun --oversubscribe -np 2 java ... MpiSelfTest
 * <mode>}. Skips with the reason where mpirun or libd2v_mpi is missing, except in CI (CI=true),
 * where that fails: CI installs Open MPI and builds native/.
 */
class MpiLaunchTest {
    private static final Pattern FAILING_AT = Pattern.compile("failing at (\\d+)");
    /** How long after one rank fails the job must be over: "within seconds", with room for a loaded 2-core machine. */
    private static final long ENDS_WITHIN_MS = 10_000;
    private static String mpirun;

    @BeforeAll
    static void needMpi() {
        mpirun = onPath("mpirun");
        String why = mpirun == null ? "mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)" : Mpi.unavailableReason();
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) fail("the MPI tests must run in CI: " + why);
            Assumptions.abort("MPI tests skipped: " + why);
        }
    }

    private static String onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    record Run(int exitCode, String output, long endedAtMillis) {
        /** Milliseconds from the failing rank's "failing at" to the end of mpirun. */
        long endedAfterFailureMs() {
            Matcher m = FAILING_AT.matcher(output);
            assertTrue(m.find(), "the failing rank never said when it failed:\n" + output);
            return endedAtMillis - Long.parseLong(m.group(1));
        }
    }

    private static Run launch(String mode) throws IOException, InterruptedException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(mpirun, "--oversubscribe", "-np", "2"));
        if ("root".equals(System.getProperty("user.name"))) cmd.add(1, "--allow-run-as-root");
        if (System.getenv("LD_PRELOAD") != null) cmd.addAll(List.of("-x", "LD_PRELOAD")); // libjsig, as for every JVM here
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath, MpiSelfTest.class.getName(), mode));
        Path log = Files.createTempFile("mpi-" + mode, ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean ended = p.waitFor(90, TimeUnit.SECONDS);
            long endedAt = System.currentTimeMillis();
            if (!ended) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("mpirun " + mode + " still running after 90 s (a hang):\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            System.out.println("---- mpirun -np 2 MpiSelfTest " + mode + " (exit " + p.exitValue() + ")\n" + out);
            return new Run(p.exitValue(), out, endedAt);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void allReduceBroadcastBarrierAndRanksOnTwoProcesses() throws Exception {
        Run r = launch("collectives");
        assertEquals(0, r.exitCode(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(Pattern.compile("rank " + rank + ": all \\d+ checks passed").matcher(r.output()).find(),
                    "rank " + rank + " did not pass:\n" + r.output());
            assertTrue(r.output().contains("rank " + rank + ": reference: tensor all-reduce"), r.output());
        }
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(r.output().contains("rank 0: opencl: tensor all-reduce"), "CI has PoCL: the OpenCL tensors must be all-reduced\n" + r.output());
        }
    }

    @Test
    void abortEndsEveryRankWithTheReason() throws Exception {
        Run r = launch("abort");
        assertEquals(Communicator.ABORT_EXIT_CODE, r.exitCode(), r.output());
        assertTrue(r.output().contains("d2v: rank 1 of 2 aborting the job (exit code 70): deliberate abort from MpiSelfTest"), r.output());
        assertEnded(r, "abort");
    }

    @Test
    void aKilledRankEndsTheJob() throws Exception {
        Run r = launch("kill");
        assertTrue(r.exitCode() != 0, "the job of a killed rank exited 0:\n" + r.output());
        assertTrue(r.output().contains("rank 1") && r.output().contains("signal 9"), "mpirun did not name the killed rank:\n" + r.output());
        assertEnded(r, "SIGKILL");
    }

    @Test
    void anExceptionOnOneRankAbortsTheJob() throws Exception {
        Run r = launch("raise");
        assertEquals(Communicator.ABORT_EXIT_CODE, r.exitCode(), r.output());
        assertTrue(r.output().contains("rank 1 failed: java.lang.IllegalStateException: deliberate uncaught exception"), r.output());
        assertEnded(r, "exception");
    }

    @Test
    void aHungPeerEndsTheJobAtTheTimeout() throws Exception {
        Run r = launch("hang");
        assertEquals(Communicator.ABORT_EXIT_CODE, r.exitCode(), r.output());
        assertTrue(r.output().contains("d2v: rank 0 of 2 aborting the job") && r.output().contains("did not complete within 2.0 s"), r.output());
        assertEnded(r, "hang (2 s timeout)");
    }

    private static void assertEnded(Run r, String what) {
        long ms = r.endedAfterFailureMs();
        System.out.println("MEASURED " + what + ": the job ended " + ms + " ms after rank 1 failed, exit code " + r.exitCode());
        assertTrue(ms < ENDS_WITHIN_MS, what + ": the job took " + ms + " ms to end:\n" + r.output());
    }
}
