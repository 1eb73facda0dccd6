package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.d2v.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 6: a real {@code d2v pretrain} in a child JVM (micro model, reference backend)
 * gets SIGINT or SIGTERM after a few steps. It finishes the step, writes a checkpoint of it, says
 * where and how to resume and exits 130 / 143; the resumed run is bit-identical to an uninterrupted
 * one. A second signal exits at once, leaving every checkpoint loadable.
 */
class SignalTest {
    @TempDir Path tmp;

    private static final String[] RUN = {"pretrain", "--modality", "image", "--preset", "micro", "--backend", "reference", "--seed", "3",
            "--progress-seconds", "0.001"};

    /** A child JVM running d2v, its stdout and stderr collected line by line. */
    private static final class Child {
        final Process process;
        final List<String> out = new ArrayList<>(), err = new ArrayList<>();

        Child(String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                    "-cp", System.getProperty("java.class.path"), "org.d2v.cli.Main"));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            Path jsig = Path.of(System.getProperty("java.home"), "lib", "libjsig.so");
            if (Files.exists(jsig)) pb.environment().put("LD_PRELOAD", jsig.toString());
            process = pb.start();
            pump(process.getInputStream(), out);
            pump(process.getErrorStream(), err);
        }

        private static void pump(java.io.InputStream in, List<String> lines) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) synchronized (lines) { lines.add(l); }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        /** Waits until stdout has a line starting with {@code prefix}. */
        void awaitLine(String prefix) throws InterruptedException {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < until && process.isAlive()) {
                synchronized (out) { if (out.stream().anyMatch(l -> l.startsWith(prefix))) return; }
                Thread.sleep(20);
            }
            throw new AssertionError("no line '" + prefix + "...' from the child; out " + out + ", err " + err);
        }

        void signal(String name) throws Exception {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + name);
        }

        int exit() throws InterruptedException {
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the child did not exit; out " + out + ", err " + err);
            }
            Thread.sleep(100); // the pumps drain what is left
            return process.exitValue();
        }

        String errText() { synchronized (err) { return String.join("\n", err); } }
    }

    private static String[] with(String[] base, String... more) {
        String[] out = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, out, base.length, more.length);
        return out;
    }

    private static List<String> lossBits(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).toList();
    }

    @Test
    void sigintStopsAtAStepBoundaryWithACheckpointAndTheResumeIsBitIdentical() throws Exception {
        Path interrupted = tmp.resolve("interrupted"), straight = tmp.resolve("straight");
        Child child = new Child(with(RUN, "--steps", "12", "--checkpoint-every", "100", "--run", interrupted.toString()));
        child.awaitLine("step 3/12");
        child.signal("INT");
        assertEquals(130, child.exit(), child.errText());
        String err = child.errText();
        assertTrue(err.contains("d2v: SIGINT: finishing the current step, then writing a checkpoint"), err);
        List<String> rows = Files.readAllLines(interrupted.resolve("metrics.jsonl"));
        long step = rows.size();
        assertTrue(step >= 3 && step < 12, "stopped after step " + step);
        Path checkpoint = interrupted.resolve("checkpoint-" + step);
        assertTrue(err.contains("d2v pretrain: stopped by SIGINT after step " + step + "; checkpoint written: " + checkpoint
                + "; continue with: d2v pretrain --resume " + interrupted), err);
        assertEquals(checkpoint, Checkpoint.latest(interrupted), "the checkpoint of the last step that ran, though --checkpoint-every is 100");
        assertEquals(step, Checkpoint.load(checkpoint).manifest().step());

        Captured resumed = Captured.run(() -> new PretrainCommand().run("--resume", interrupted.toString()));
        assertEquals(0, resumed.code(), resumed.err());
        Captured whole = Captured.run(() -> Main.commandLine().execute(with(RUN, "--steps", "12", "--checkpoint-every", "100", "--run", straight.toString())));
        assertEquals(0, whole.code(), whole.err());
        assertEquals(lossBits(straight), lossBits(interrupted), "every step's loss, bit for bit");
        assertEquals(Checkpoint.load(straight.resolve("checkpoint-12")).manifest().tensorsSha256(),
                Checkpoint.load(interrupted.resolve("checkpoint-12")).manifest().tensorsSha256(), "the final weights, moments and teacher are identical");
    }

    @Test
    void sigtermExits143AndASecondSignalExitsAtOnce() throws Exception {
        Path term = tmp.resolve("term");
        Child child = new Child(with(RUN, "--steps", "50", "--checkpoint-every", "1", "--run", term.toString()));
        child.awaitLine("step 2/50");
        child.signal("TERM");
        assertEquals(143, child.exit(), child.errText());
        assertTrue(child.errText().contains("d2v pretrain: stopped by SIGTERM after step "), child.errText());
        Checkpoint.load(Checkpoint.latest(term));

        // Steps of a large batch take long enough that the second signal comes while the first waits for the step to end.
        Path twice = tmp.resolve("twice");
        Child again = new Child(with(RUN, "--steps", "50", "--batch", "96", "--checkpoint-every", "1", "--run", twice.toString()));
        again.awaitLine("step 2/50"); // step 2 ran, so checkpoint-1 (written before it) is complete
        again.signal("INT");
        Thread.sleep(200);
        again.signal("INT");
        assertEquals(130, again.exit(), again.errText());
        String err = again.errText();
        assertTrue(err.contains("d2v: second SIGINT: exiting at once"), err);
        assertFalse(err.contains("d2v pretrain: stopped by SIGINT"), "it did not wait for the step: " + err);
        // Whatever the halt interrupted, every checkpoint under a real name is complete, 'latest' names one, and everything a resume reads is valid.
        for (long s = 1; Files.exists(twice.resolve("checkpoint-" + s)); s++) Checkpoint.load(twice.resolve("checkpoint-" + s));
        Checkpoint.load(Checkpoint.latest(twice));
        org.d2v.train.ResumeCheck.validate(twice, "image", "image-micro", System.out);
    }
}
