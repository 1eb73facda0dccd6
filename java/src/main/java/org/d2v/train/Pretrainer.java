package org.d2v.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.optim.CosineSchedule;

/**
 * The pretraining loop: for each step n it takes the learning rate from the cosine schedule, the
 * next batch from a {@link BatchSource} and runs {@link TrainableModel#trainStep}; it appends the
 * metrics to metrics.jsonl/metrics.csv, prints a progress line now and then, writes a checkpoint
 * every K steps and at the end, redraws loss.png, and stops on a non-finite loss.
 *
 * <p>Resume restores the model's tensors, the step, the random stream and the data position from
 * the run's latest checkpoint, so the continued run computes exactly what an uninterrupted one
 * would have. Everything random flows from one {@link RandomStream} for that reason.
 */
public final class Pretrainer {
    public static final String PLOT = "loss.png";

    private final TrainableModel model;
    private final BatchSource source;
    private final Path runDir;
    private final long steps;
    private final CosineSchedule schedule;
    private final long seed;
    private final long checkpointEvery;
    private final Duration progressEvery;
    private final PrintStream out;
    private final boolean resume;
    private final String preset, modality;
    private final Map<String, String> config;
    private final boolean plot;

    /** What a finished run reports. {@code checkpoint} is the newest checkpoint folder. */
    public record Result(long step, List<MetricsRow> metrics, Path checkpoint) {}

    private Pretrainer(Builder b) {
        this.model = Objects.requireNonNull(b.model, "model");
        this.source = Objects.requireNonNull(b.source, "source");
        this.runDir = Objects.requireNonNull(b.runDir, "runDir");
        this.schedule = Objects.requireNonNull(b.schedule, "schedule");
        if (b.steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + b.steps);
        if (b.checkpointEvery < 0) throw new IllegalArgumentException("checkpointEvery must be >= 0, got " + b.checkpointEvery);
        this.steps = b.steps;
        this.seed = b.seed;
        this.checkpointEvery = b.checkpointEvery;
        this.progressEvery = b.progressEvery;
        this.out = b.out;
        this.resume = b.resume;
        this.preset = b.preset;
        this.modality = b.modality;
        this.config = Map.copyOf(b.config);
        this.plot = b.plot;
    }

    public static Builder builder() { return new Builder(); }

    /** Options of a run; model, source, runDir, steps and schedule are required. */
    public static final class Builder {
        private TrainableModel model;
        private BatchSource source;
        private Path runDir;
        private long steps;
        private CosineSchedule schedule;
        private long seed = 1;
        private long checkpointEvery = 1000;
        private Duration progressEvery = Duration.ofSeconds(10);
        private PrintStream out = System.out;
        private boolean resume;
        private String preset = "custom", modality = "unknown";
        private final Map<String, String> config = new LinkedHashMap<>();
        private boolean plot = true;

        private Builder() {}

        public Builder model(TrainableModel m) { this.model = m; return this; }

        public Builder source(BatchSource s) { this.source = s; return this; }

        /** The run folder: checkpoints, metrics and the plot go here. */
        public Builder runDir(Path dir) { this.runDir = dir; return this; }

        /** The step to train up to (total, counted from the start of the run, not from a resume). */
        public Builder steps(long n) { this.steps = n; return this; }

        /** The learning rate for step n is {@code schedule.lr(n − 1)} (fairseq's order, spec §8). */
        public Builder schedule(CosineSchedule s) { this.schedule = s; return this; }

        /** Seed of the run's random stream (masks, dropout, noise); a resume keeps the saved one. */
        public Builder seed(long s) { this.seed = s; return this; }

        /** A checkpoint every K steps (0: only at the end); there is always one at the end. */
        public Builder checkpointEvery(long k) { this.checkpointEvery = k; return this; }

        /** At most one progress line per this interval (plus the first and the last step). */
        public Builder progressEvery(Duration d) { this.progressEvery = d; return this; }

        /** Where progress lines go (System.out by default). */
        public Builder progress(PrintStream ps) { this.out = ps; return this; }

        /** Continue from the run folder's latest checkpoint instead of starting a new run. */
        public Builder resume(boolean r) { this.resume = r; return this; }

        /** Names recorded in each checkpoint and checked on resume. */
        public Builder describe(String preset, String modality) { this.preset = preset; this.modality = modality; return this; }

        /** Free-form options recorded in each checkpoint manifest (batch size, data, ...). */
        public Builder config(String key, String value) { this.config.put(key, value); return this; }

        /** Whether to redraw loss.png at each checkpoint (default true). */
        public Builder plot(boolean p) { this.plot = p; return this; }

        public Pretrainer build() { return new Pretrainer(this); }
    }

    /** Trains up to {@code steps}; throws {@link TrainingDivergedException} on a non-finite loss. */
    public Result run() throws IOException {
        Files.createDirectories(runDir);
        long start = 0;
        RandomStream rng = new RandomStream(seed);
        List<MetricsRow> history = List.of();
        Path lastCheckpoint = null;
        if (resume) {
            Checkpoint c = Checkpoint.load(Checkpoint.latest(runDir));
            CheckpointManifest m = c.manifest();
            checkSame("modality", m.modality(), modality, c.dir());
            checkSame("preset", m.preset(), preset, c.dir());
            c.restore(model);
            rng = new RandomStream(m.seed(), m.rngPosition());
            source.seek(m.dataPosition());
            history = m.metrics();
            start = m.step();
            lastCheckpoint = c.dir();
            out.printf(Locale.ROOT, "resuming %s from step %d (%s)%n", runDir, start, c.dir().getFileName());
            if (!m.backend().equals(model.device().backend())) {
                out.printf(Locale.ROOT, "note: the run was trained on %s and continues on %s (not bit-identical across backends)%n",
                        m.backend(), model.device().backend());
            }
            if (m.seed() != seed) out.printf(Locale.ROOT, "note: keeping the run's seed %d (not %d)%n", m.seed(), seed);
        } else if (Files.exists(runDir.resolve(Checkpoint.LATEST))) {
            throw new IOException(runDir + ": this run folder already has checkpoints; resume it (--resume) or choose a new folder");
        }
        if (start >= steps) {
            out.printf(Locale.ROOT, "nothing to do: the run is at step %d of %d%n", start, steps);
            return new Result(start, history, lastCheckpoint);
        }

        double elapsedBefore = history.isEmpty() ? 0 : history.get(history.size() - 1).elapsedSec();
        long began = System.nanoTime(), lastPrint = Long.MIN_VALUE;
        long settledBytes = -1; // device memory after the second step of this session: later growth is a leak
        boolean leakReported = false;
        try (MetricsLog log = MetricsLog.open(runDir, history)) {
            for (long n = start + 1; n <= steps; n++) {
                double lr = schedule.lr(n - 1);
                long t0 = System.nanoTime();
                Batch batch = source.next();
                StepStats stats = model.trainStep(batch, n, lr, rng);
                long t1 = System.nanoTime();
                double elapsed = elapsedBefore + (t1 - began) * 1e-9;
                MetricsRow row = MetricsRow.of(n, lr, stats, (t1 - t0) * 1e-9, elapsed);
                log.append(row);
                if (!Double.isFinite(stats.loss())) {
                    if (plot) plot(log.rows());
                    throw new TrainingDivergedException(n, stats.loss(), lastCheckpoint == null ? null : lastCheckpoint.toString());
                }
                long bytes = model.device().bytesInUse();
                if (n == start + 2) settledBytes = bytes;
                else if (settledBytes >= 0 && bytes > settledBytes && !leakReported) {
                    out.printf(Locale.ROOT, "warning: device memory grew from %d to %d bytes by step %d (a step leaks buffers?)%n",
                            settledBytes, bytes, n);
                    leakReported = true;
                }
                boolean last = n == steps;
                if (last || n == start + 1 || t1 - lastPrint >= progressEvery.toNanos()) {
                    progress(row, start, t1 - began, n);
                    lastPrint = t1;
                }
                if (last || (checkpointEvery > 0 && n % checkpointEvery == 0)) {
                    CheckpointManifest m = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, n, steps, preset, modality,
                            model.device().backend(), rng.seed(), rng.position(), source.position(), config, log.rows(), "", 0);
                    lastCheckpoint = Checkpoint.save(runDir, m, model.state()).dir();
                    if (plot) plot(log.rows());
                }
            }
            return new Result(steps, log.rows(), lastCheckpoint);
        }
    }

    private void progress(MetricsRow r, long start, long nanos, long n) {
        double perStep = nanos * 1e-9 / (n - start);
        long eta = Math.round(perStep * (steps - n));
        out.printf(Locale.ROOT, "step %d/%d  loss %.5g  reg %.5g  lr %.3e  %.1f samples/s  %.0f tokens/s  ETA %d:%02d:%02d%n",
                n, steps, r.loss(), r.regression(), r.lr(), r.samplesPerSec(), r.tokensPerSec(), eta / 3600, eta / 60 % 60, eta % 60);
    }

    private void plot(List<MetricsRow> rows) {
        try {
            LossPlot.write(runDir.resolve(PLOT), rows, "data2vec 2.0 pretraining: " + preset + " (" + modality + ")");
        } catch (IOException | RuntimeException | LinkageError e) {
            // The plot is a convenience; never lose a run over it (e.g. a JRE without AWT libraries).
            out.println("warning: could not draw " + PLOT + ": " + e);
        }
    }

    private static void checkSame(String what, String saved, String now, Path dir) throws CheckpointException {
        if (!saved.equals(now)) {
            throw new CheckpointException(dir, "was trained with " + what + " '" + saved + "', this run uses '" + now + "'");
        }
    }
}
