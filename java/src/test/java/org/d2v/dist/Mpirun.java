package org.d2v.dist;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.d2v.jni.Mpi;
import org.junit.jupiter.api.Assumptions;

/**
 * Starts {@code mpirun --oversubscribe --bind-to none -np N java … <main> <args>} on this machine
 * (with {@code --allow-run-as-root} as root), the test classpath and libjsig forwarded, for tests
 * of real multi-process jobs. Skips where mpirun or libd2v_mpi is missing, except in CI (CI=true),
 * where that fails. Ranks are not bound to a core: the CPU backends use what they get.
 */
public final class Mpirun {
    private Mpirun() {}

    /** A finished job: exit code and everything every rank printed. */
    public record Job(int exitCode, String output, long endedAtMillis) {}

    /** mpirun's path, or skips (fails in CI) with the reason. */
    public static String require() {
        String mpirun = onPath("mpirun");
        String why = mpirun == null ? "mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)" : Mpi.unavailableReason();
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) fail("the MPI tests must run in CI: " + why);
            Assumptions.abort("MPI tests skipped: " + why);
        }
        return mpirun;
    }

    private static String onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    /** The command line of {@code ranks} JVMs running {@code mainClass} with {@code args}. */
    public static List<String> command(int ranks, Class<?> mainClass, List<String> args) {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(require(), "--oversubscribe", "--bind-to", "none", "-np", Integer.toString(ranks)));
        if ("root".equals(System.getProperty("user.name"))) cmd.add(1, "--allow-run-as-root");
        if (System.getenv("LD_PRELOAD") != null) cmd.addAll(List.of("-x", "LD_PRELOAD")); // libjsig, as for every JVM here
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath, mainClass.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** Runs the job to its end (at most {@code limitSeconds}; longer is a hang and fails). */
    public static Job run(int ranks, Class<?> mainClass, List<String> args, int limitSeconds) throws IOException, InterruptedException {
        return run(command(ranks, mainClass, args), limitSeconds, null);
    }

    /** Something to do while the job runs (e.g. kill a rank); it gets mpirun's process. */
    @FunctionalInterface
    public interface WhileRunning {
        void during(Process mpirun) throws Exception;
    }

    public static Job run(List<String> cmd, int limitSeconds, WhileRunning during) throws IOException, InterruptedException {
        Path log = Files.createTempFile("mpirun", ".log");
        try {
            long started = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                if (during != null) during.during(p);
            } catch (Exception e) {
                kill(p);
                throw new IllegalStateException("while the job ran: " + e + "\n" + Files.readString(log, StandardCharsets.UTF_8), e);
            }
            boolean ended = p.waitFor(limitSeconds, TimeUnit.SECONDS);
            long endedAt = System.currentTimeMillis();
            if (!ended) {
                kill(p);
                fail("mpirun still running after " + limitSeconds + " s (a hang): " + cmd + "\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            int main = cmd.indexOf("-cp") + 2;
            System.out.println("---- mpirun -np " + cmd.get(cmd.indexOf("-np") + 1) + " " + String.join(" ", cmd.subList(main, cmd.size()))
                    + String.format(" (exit %d, %.1f s)%n", p.exitValue(), (System.nanoTime() - started) * 1e-9) + out);
            return new Job(p.exitValue(), out, endedAt);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /** The JVM of {@code rank} among mpirun's children (Open MPI gives each its rank in OMPI_COMM_WORLD_RANK). */
    public static Optional<ProcessHandle> rankProcess(Process mpirun, int rank) {
        return mpirun.descendants().filter(h -> {
            try {
                String env = "\0" + Files.readString(Path.of("/proc", Long.toString(h.pid()), "environ"), StandardCharsets.ISO_8859_1);
                return env.contains("\0OMPI_COMM_WORLD_RANK=" + rank + "\0") && h.info().command().map(c -> c.endsWith("java")).orElse(false);
            } catch (IOException e) {
                return false; // gone already, or not ours to read
            }
        }).findFirst();
    }
}
