package org.d2v.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.cli.Main;
import org.d2v.cli.PretrainCommand;
import org.d2v.dist.Communicator;
import org.d2v.dist.Mpirun;
import org.d2v.json.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel pretraining as users run it: {@code mpirun -np 2 java … d2v pretrain …} on this
 * machine (two processes, MPI on host memory), next to the same runs in one process.
 * (a) after K steps every rank holds bit-identical parameters, teacher and moments;
 * (b) 2 ranks × B per rank equal 1 rank × 2B, and so does 1 rank with --update-freq 2: the loss
 * terms of every step and the final state within float32 rounding (the figure is printed);
 * (c) a 2-rank run stopped and resumed on 2 ranks is bit-identical to the uninterrupted one, and
 * resumed on 1 rank continues the same global batch sequence;
 * (d) a rank killed mid-run ends the job on both ranks within seconds, naming the rank, and the
 * last checkpoint stays intact.
 * Reference backend with image-micro (CLS loss, inverse block masks), and OpenCL with audio-micro
 * (dropout, layerdrop, decoder noise: the per-sample random streams).
 */
class DataParallelTrainingTest {
    /** Float32 rounding, accumulated over a few steps: gradients summed in another order. */
    private static final double ROUNDING = 2e-5;
    /**
     * The same for float32 parameters after AdamW: a bias moves about lr a step whatever its gradient's
     * size, so a component whose gradient is small beside its rounding noise (float32 sums in another
     * order: batch 2 instead of 4) moves by a visibly different part of lr. Measured: 1.2e-4 on an
     * AMD EPYC (OpenBLAS's Haswell kernels) in a bias three steps from zero, below 2e-5 on SkylakeX.
     * The faults this test is for (a rank on other data, a missing all-reduce) move the loss and the
     * gradient norm themselves, which are held to {@link #ROUNDING}.
     */
    private static final double ROUNDING_FLOAT32_ADAMW = 1e-3;

    @TempDir static Path tmp;
    private static final String[] IMAGE = {"--modality", "image", "--preset", "micro", "--backend", "reference", "--batch", "4",
            "--steps", "4", "--checkpoint-every", "2", "--seed", "3", "--progress-seconds", "1000"};
    private static Path two, one, accumulated;
    private static Mpirun.Job twoJob;

    @BeforeAll
    static void trainTheSameUpdatesThreeWays() throws Exception {
        Mpirun.require();
        two = tmp.resolve("two-ranks");
        twoJob = mpirun(2, concat(IMAGE, "--check-replicas", "2", "--run", two.toString()));
        assertEquals(0, twoJob.exitCode(), twoJob.output());
        one = tmp.resolve("one-rank");
        long t0 = System.nanoTime();
        assertEquals(0, new PretrainCommand().run(concat(IMAGE, "--run", one.toString())));
        System.out.printf(Locale.ROOT, "in one process: %.1f s%n", (System.nanoTime() - t0) * 1e-9);
        accumulated = tmp.resolve("one-rank-update-freq-2");
        assertEquals(0, new PretrainCommand().run(concat(IMAGE, "--update-freq", "2", "--run", accumulated.toString())));
    }

    @Test
    void everyRankHoldsBitIdenticalStateAfterKSteps() {
        String out = twoJob.output();
        assertTrue(out.contains("global batch 4 = 2 ranks x 1 micro-batch x 2 per device"), out);
        for (int step : new int[] {2, 4}) {
            assertTrue(out.matches("(?s).*step " + step + ": the state of all 2 ranks is identical \\(182 tensors, checksum [0-9a-f]{16}\\).*"),
                    "no replica check after step " + step + ":\n" + out);
        }
    }

    @Test
    void twoRanksAndAccumulationMatchOneRankWithTheWholeBatch() throws IOException {
        double metrics2 = compareMetrics(one, two), metricsF = compareMetrics(one, accumulated);
        double state2 = compareState(one, two), stateF = compareState(one, accumulated);
        System.out.printf(Locale.ROOT, "MEASURED image-micro, reference, 4 steps of a global batch of 4: 2 ranks x 2 vs 1 rank x 4: metrics %.2e, "
                + "final state %.2e; 1 rank x 2 micro-batches x 2 (--update-freq 2) vs 1 x 4: metrics %.2e, state %.2e (largest relative deviation)%n",
                metrics2, state2, metricsF, stateF);
        for (double d : new double[] {metrics2, state2, metricsF, stateF}) assertTrue(d < ROUNDING, "deviation " + d);
        assertTrue(Files.readString(accumulated.resolve("checkpoint-4").resolve(Checkpoint.MANIFEST)).contains("\"update-freq\":\"2\""));
    }

    @Test
    void aStoppedRunResumesOnTwoRanksExactlyAndOnOneRankWithTheSameBatches() throws Exception {
        Path stopped = tmp.resolve("stopped");
        Mpirun.Job first = mpirun(2, concat(IMAGE, "--stop-at", "2", "--run", stopped.toString()));
        assertEquals(0, first.exitCode(), first.output());
        assertEquals(stopped.resolve("checkpoint-2"), Checkpoint.latest(stopped));
        CheckpointManifest m = Checkpoint.load(Checkpoint.latest(stopped)).manifest();
        assertEquals(8, m.dataPosition(), "two global batches of 4: the position counts global samples");
        Path onOne = tmp.resolve("stopped-then-one-rank");
        copy(stopped, onOne);

        Mpirun.Job resumed = mpirun(2, List.of("--resume", stopped.toString()));
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().contains("resuming " + stopped + " from step 2"), resumed.output());
        assertEquals(0.0, compareMetrics(two, stopped), "2 ranks resumed on 2 ranks: the same steps, bit for bit");
        assertEquals(0.0, compareState(two, stopped), "2 ranks resumed on 2 ranks: the same final state, bit for bit");

        assertEquals(0, new PretrainCommand().run("--resume", onOne.toString()));
        double metrics = compareMetrics(two, onOne), state = compareState(two, onOne);
        System.out.printf(Locale.ROOT, "MEASURED stopped on 2 ranks at step 2, resumed on 1: metrics %.2e, final state %.2e from the 2-rank run%n",
                metrics, state);
        assertTrue(metrics < ROUNDING && state < ROUNDING, metrics + " " + state);
        assertEquals(16, Checkpoint.load(Checkpoint.latest(onOne)).manifest().dataPosition());
    }

    @Test
    void aKilledRankEndsTheJobOnEveryRankAndTheCheckpointStaysIntact() throws Exception {
        Path run = tmp.resolve("killed");
        long[] killedAt = {0}, endedAt = {0};
        List<String> cmd = Mpirun.command(2, Main.class, List.of(concat(
                new String[] {"pretrain", "--modality", "image", "--preset", "micro", "--backend", "reference", "--batch", "4",
                        "--steps", "200", "--checkpoint-every", "1", "--run", run.toString()})));
        Mpirun.Job job = Mpirun.run(cmd, 120, mpirun -> {
            long deadline = System.currentTimeMillis() + 90_000;
            while (!Files.exists(run.resolve(Checkpoint.LATEST))) {
                if (!mpirun.isAlive()) throw new IllegalStateException("the job ended before its first checkpoint");
                if (System.currentTimeMillis() > deadline) throw new IllegalStateException("no checkpoint after 90 s");
                Thread.sleep(20);
            }
            ProcessHandle rank1 = Mpirun.rankProcess(mpirun, 1).orElseThrow(() -> new IllegalStateException("rank 1 not found"));
            killedAt[0] = System.currentTimeMillis();
            rank1.destroyForcibly(); // SIGKILL
            assertTrue(mpirun.waitFor(60, TimeUnit.SECONDS), "the job did not end after rank 1 was killed");
            endedAt[0] = System.currentTimeMillis();
        });
        long ms = endedAt[0] - killedAt[0];
        System.out.println("MEASURED rank 1 killed (SIGKILL) mid-run: the job ended " + ms + " ms later, exit code " + job.exitCode());
        assertTrue(job.exitCode() != 0, job.output());
        assertTrue(job.output().contains("rank 1") && job.output().contains("signal 9"), "mpirun did not name the killed rank:\n" + job.output());
        assertTrue(ms < 10_000, "the job took " + ms + " ms to end");
        Checkpoint c = Checkpoint.load(Checkpoint.latest(run)); // validates the manifest, sizes and the sha256 of the tensors
        assertTrue(c.manifest().step() >= 1 && c.manifest().step() < 200, "step " + c.manifest().step());
        assertEquals(4 * c.manifest().step(), c.manifest().dataPosition());
        assertEquals(0, new PretrainCommand().run("--resume", run.toString(), "--stop-at", Long.toString(c.manifest().step() + 1)),
                "the intact checkpoint resumes");
    }

    @Test
    void aSignalToOneRankStopsEveryRankAfterTheSameStepWithRankZerosCheckpoint() throws Exception {
        Path run = tmp.resolve("signalled");
        List<String> cmd = Mpirun.command(2, Main.class, List.of(concat(
                new String[] {"pretrain", "--modality", "image", "--preset", "micro", "--backend", "reference", "--batch", "4",
                        "--steps", "200", "--checkpoint-every", "100", "--run", run.toString()})));
        Mpirun.Job job = Mpirun.run(cmd, 120, mpirun -> {
            long deadline = System.currentTimeMillis() + 90_000;
            while (!Files.exists(run.resolve(MetricsLog.JSONL)) || Files.size(run.resolve(MetricsLog.JSONL)) == 0) {
                if (!mpirun.isAlive()) throw new IllegalStateException("the job ended before its first step");
                if (System.currentTimeMillis() > deadline) throw new IllegalStateException("no step after 90 s");
                Thread.sleep(20);
            }
            ProcessHandle rank1 = Mpirun.rankProcess(mpirun, 1).orElseThrow(() -> new IllegalStateException("rank 1 not found"));
            Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(rank1.pid())).start(); // rank 1 only, not the job
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -TERM");
            assertTrue(mpirun.waitFor(60, TimeUnit.SECONDS), "the job did not end after rank 1 was signalled");
        });
        System.out.println("MEASURED SIGTERM to rank 1 only: job exit code " + job.exitCode());
        assertTrue(job.exitCode() != 0, job.output());
        Checkpoint c = Checkpoint.load(Checkpoint.latest(run)); // rank 0 wrote it after the step both ranks stopped after
        long step = c.manifest().step();
        assertTrue(step >= 1 && step < 200, "step " + step);
        assertTrue(job.output().contains("stopped by a signal to another rank after step " + step + "; checkpoint written"), job.output());
        assertTrue(job.output().contains("rank 1 stopped by SIGTERM after step " + step), job.output());
        assertEquals(step, Files.readAllLines(run.resolve(MetricsLog.JSONL)).size(), "one metrics row per step that ran");
        assertEquals(0, new PretrainCommand().run("--resume", run.toString(), "--stop-at", Long.toString(step + 1)), "the checkpoint resumes");
    }

    @Test
    void onOpenClTwoRanksMatchOneRankAndStayIdentical() throws Exception {
        KernelTestBase.openOrSkip("opencl").close();
        String[] audio = {"--modality", "audio", "--preset", "micro", "--backend", "opencl", "--batch", "4", "--steps", "3",
                "--checkpoint-every", "3", "--seed", "7", "--progress-seconds", "1000"};
        Path twoCl = tmp.resolve("opencl-two"), oneCl = tmp.resolve("opencl-one");
        Mpirun.Job job = mpirun(2, concat(audio, "--check-replicas", "3", "--run", twoCl.toString()));
        assertEquals(0, job.exitCode(), job.output());
        assertTrue(job.output().matches("(?s).*step 3: the state of all 2 ranks is identical \\(\\d+ tensors, checksum [0-9a-f]{16}\\).*"), job.output());
        assertEquals(0, new PretrainCommand().run(concat(audio, "--run", oneCl.toString())));
        double metrics = compareMetrics(oneCl, twoCl), state = compareState(oneCl, twoCl);
        System.out.printf(Locale.ROOT, "MEASURED audio-micro (dropout, layerdrop), OpenCL, 3 steps: 2 ranks x 2 vs 1 rank x 4: metrics %.2e, final state %.2e%n",
                metrics, state);
        assertTrue(metrics < ROUNDING && state < ROUNDING_FLOAT32_ADAMW, metrics + " " + state);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static Mpirun.Job mpirun(int ranks, String... pretrainArgs) throws Exception {
        return mpirun(ranks, List.of(pretrainArgs));
    }

    private static Mpirun.Job mpirun(int ranks, List<String> pretrainArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("pretrain"));
        args.addAll(pretrainArgs);
        return Mpirun.run(ranks, Main.class, args, 180);
    }

    private static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    /** Largest deviation of b's loss terms, guard statistics and gradient norm from a's, relative to each value; every step must be there. */
    static double compareMetrics(Path a, Path b) throws IOException {
        List<MetricsRow> ra = rows(a), rb = rows(b);
        assertEquals(ra.stream().map(MetricsRow::step).toList(), rb.stream().map(MetricsRow::step).toList(), "the same steps");
        double worst = 0;
        for (int i = 0; i < ra.size(); i++) {
            MetricsRow x = ra.get(i), y = rb.get(i);
            assertEquals(x.lr(), y.lr(), "step " + x.step() + ": learning rate");
            double[] u = {x.loss(), x.regression(), x.cls(), x.targetStd(), x.predStd(), x.gradNorm()};
            double[] v = {y.loss(), y.regression(), y.cls(), y.targetStd(), y.predStd(), y.gradNorm()};
            for (int k = 0; k < u.length; k++) worst = Math.max(worst, Math.abs(u[k] - v[k]) / Math.max(Math.abs(u[k]), 1e-12));
        }
        return worst;
    }

    private static List<MetricsRow> rows(Path run) throws IOException {
        List<MetricsRow> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve(MetricsLog.JSONL))) out.add(MetricsRow.fromMap((Map<?, ?>) Json.parse(line)));
        return out;
    }

    /** Largest deviation of the latest checkpoints' tensors, per tensor relative to its largest magnitude. */
    static double compareState(Path a, Path b) throws IOException {
        Map<String, double[]> x = tensors(Checkpoint.latest(a)), y = tensors(Checkpoint.latest(b));
        assertEquals(x.keySet(), y.keySet());
        double worst = 0;
        String worstName = null;
        for (String name : x.keySet()) {
            double[] u = x.get(name), v = y.get(name);
            assertEquals(u.length, v.length, name);
            double scale = 0, diff = 0;
            for (int i = 0; i < u.length; i++) {
                scale = Math.max(scale, Math.abs(u[i]));
                diff = Math.max(diff, Math.abs(u[i] - v[i]));
            }
            double d = scale == 0 ? diff : diff / scale;
            if (d > worst) {
                worst = d;
                worstName = name;
            }
        }
        if (worstName != null) System.out.printf(Locale.ROOT, "largest deviation of %s from %s: %.2e in %s%n", b.getFileName(), a.getFileName(), worst, worstName);
        return worst;
    }

    private static Map<String, double[]> tensors(Path checkpoint) throws IOException {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (SafeTensors.Reader r = SafeTensors.open(checkpoint.resolve(Checkpoint.TENSORS))) {
            for (String name : r.tensors().keySet()) out.put(name, r.read(name));
        }
        return out;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
