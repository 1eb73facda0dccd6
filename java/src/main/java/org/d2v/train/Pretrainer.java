package org.d2v.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.dist.DataParallel;
import org.d2v.dist.ReplicaCheck;
import org.d2v.optim.CosineSchedule;

/**
 * The pretraining loop: for each step n it takes the learning rate from the cosine schedule, the
 * next batch from a {@link BatchSource} and runs {@link TrainableModel#trainStep}; it appends the
 * metrics to metrics.jsonl/metrics.csv, prints a progress line now and then, writes a checkpoint
 * every K steps and at the end, redraws loss.png, and stops on a non-finite loss.
 *
 * <p>A step's statistics may stay on the device ({@link StatsRing}): the loop reads them once per
 * logging interval ({@link Builder#statsEvery}, and whenever a progress line is due), before every
 * checkpoint and at the end, and only then writes their metrics rows (one per step, as always) and
 * runs the checks: a non-finite loss or a problem the model found (representation collapse, a
 * non-finite gradient norm, a bad id) stops the run naming the first bad step, at most one interval
 * after it ran. No checkpoint is written before the steps it covers were checked. The throughput
 * columns are averages over the interval, because the host no longer waits for each step.
 *
 * <p>Resume restores the model's tensors, the step, the random stream and the data position from
 * the run's latest checkpoint, so the continued run computes exactly what an uninterrupted one
 * would have. Everything random flows from one {@link RandomStream} for that reason.
 *
 * <p>Data-parallel ({@link Builder#dataParallel}): every rank runs this loop on its share of each
 * global batch (the source is sharded) and the model sums the gradients over the ranks; rank 0
 * alone writes files (checkpoints, metrics, the plot) and prints, the other ranks only train, and
 * every rank starts from rank 0's state. The data position is counted in global samples, so a run
 * may resume with another number of ranks (docs/distributed.md).
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
    private final int statsEvery;
    private final PrintStream out;
    private final boolean resume;
    private final String preset, modality;
    private final Map<String, String> config;
    private final boolean plot;
    private final int keepLast;
    private final DataParallel dp;
    private final long stopAt;
    private final int checkReplicasEvery;
    private final ResumeCheck.Point resumeFrom;
    private final Function<Device, TrainableModel> rebuild;
    private final boolean stopOnSignals;

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
        if (b.statsEvery < 1) throw new IllegalArgumentException("statsEvery must be >= 1, got " + b.statsEvery);
        this.progressEvery = b.progressEvery;
        this.statsEvery = b.statsEvery;
        this.out = b.out;
        this.resume = b.resume;
        this.preset = b.preset;
        this.modality = b.modality;
        this.config = Map.copyOf(b.config);
        this.plot = b.plot;
        if (b.keepLast < 0) throw new IllegalArgumentException("keepLast must be >= 0, got " + b.keepLast);
        this.keepLast = b.keepLast;
        this.dp = Objects.requireNonNull(b.dp, "dataParallel");
        if (b.stopAt < 0) throw new IllegalArgumentException("stopAt must be >= 0, got " + b.stopAt);
        this.stopAt = b.stopAt;
        if (b.checkReplicasEvery < 0) throw new IllegalArgumentException("checkReplicasEvery must be >= 0, got " + b.checkReplicasEvery);
        this.checkReplicasEvery = b.checkReplicasEvery;
        this.resumeFrom = b.resumeFrom;
        this.rebuild = b.rebuild;
        this.stopOnSignals = b.stopOnSignals;
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
        private int statsEvery = 10;
        private PrintStream out = System.out;
        private boolean resume;
        private String preset = "custom", modality = "unknown";
        private final Map<String, String> config = new LinkedHashMap<>();
        private boolean plot = true;
        private int keepLast;
        private DataParallel dp = DataParallel.SINGLE;
        private long stopAt;
        private int checkReplicasEvery;
        private ResumeCheck.Point resumeFrom;
        private Function<Device, TrainableModel> rebuild;
        private boolean stopOnSignals;

        private Builder() {}

        public Builder model(TrainableModel m) { this.model = m; return this; }

        public Builder source(BatchSource s) { this.source = s; return this; }

        /** The run folder: checkpoints, metrics and the plot go here. */
        public Builder runDir(Path dir) { this.runDir = dir; return this; }

        /** The step to train up to (total, counted from the start of the run, not from a resume). */
        public Builder steps(long n) { this.steps = n; return this; }

        /** The learning rate for step n is {@code schedule.lr(n − 1)} (fairseq's order, docs/algorithm.md §8). */
        public Builder schedule(CosineSchedule s) { this.schedule = s; return this; }

        /** Seed of the run's random stream (masks, dropout, noise); a resume keeps the saved one. */
        public Builder seed(long s) { this.seed = s; return this; }

        /** A checkpoint every K steps (0: only at the end); there is always one at the end. */
        public Builder checkpointEvery(long k) { this.checkpointEvery = k; return this; }

        /** At most one progress line per this interval (plus the first and the last step). */
        public Builder progressEvery(Duration d) { this.progressEvery = d; return this; }

        /**
         * The logging interval: read the steps' statistics from the device (one small download, one
         * host synchronisation) at least every N steps (default 10), besides progress lines,
         * checkpoints and the end. Larger is faster on a GPU; checks fire up to N steps late.
         */
        public Builder statsEvery(int n) { this.statsEvery = n; return this; }

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

        /** After each checkpoint, delete all but the N newest (0, the default: keep every one). */
        public Builder keepLast(int n) { this.keepLast = n; return this; }

        /**
         * The job this process is one rank of (default: one process). The source must be sharded
         * for it ({@link BatchSource#shard}) and every rank must run the same loop.
         */
        public Builder dataParallel(DataParallel d) { this.dp = d; return this; }

        /**
         * End this session after step N (with a checkpoint), N ≤ steps; the schedule still runs to
         * {@link #steps}, and a resume continues from there. 0 (default): train to steps.
         */
        public Builder stopAt(long n) { this.stopAt = n; return this; }

        /** Every K steps verify that all ranks hold bit-identical state ({@link ReplicaCheck}); 0 (default): never. */
        public Builder checkReplicasEvery(int k) { this.checkReplicasEvery = k; return this; }

        /** A resume from this point, validated beforehand ({@link ResumeCheck#validate}); implies {@link #resume}. */
        public Builder resumeFrom(ResumeCheck.Point p) { this.resumeFrom = p; this.resume = p != null || resume; return this; }

        /**
         * How to build the model as the run began (before its first step) on another device. With it,
         * a step that produces a non-finite value is replayed in checking mode to name the first op
         * whose output was not finite ({@link StepReplay}); the run's model is closed first (the run
         * cannot go on, and the replay needs its memory).
         */
        public Builder rebuild(Function<Device, TrainableModel> f) { this.rebuild = f; return this; }

        /**
         * SIGINT and SIGTERM stop the run at the end of the current step with a checkpoint
         * ({@link SignalStop}; exit 130/143 in the CLI); default off (the JVM's handlers stay).
         */
        public Builder stopOnSignals(boolean s) { this.stopOnSignals = s; return this; }

        public Pretrainer build() { return new Pretrainer(this); }
    }

    /**
     * Trains up to {@code steps}; throws {@link TrainingDivergedException} on a non-finite loss,
     * gradient norm or weight, and {@link RunStoppedException} after a signal (with a checkpoint).
     * Nothing in the run folder changes before everything a resume reads was validated.
     */
    public Result run() throws IOException {
        boolean root = dp.isRoot();
        long start = 0;
        RandomStream rng = new RandomStream(seed);
        List<MetricsRow> history = List.of();
        Path lastCheckpoint = null;
        List<PrecisionSegments.Segment> precisions = List.of();
        if (resume) {
            ResumeCheck.Point point = resumeFrom != null ? resumeFrom : ResumeCheck.validate(runDir, modality, preset, out);
            Checkpoint c = point.checkpoint();
            CheckpointManifest m = c.manifest();
            if (root) history = point.history(); // rank 0 owns the files
            c.restore(model);
            rng = new RandomStream(m.seed(), m.rngPosition());
            if (m.formatVersion() >= CheckpointManifest.FORMAT_SAMPLE_POSITIONS) source.seek(m.dataPosition());
            else source.seekToBatch(m.dataPosition()); // older checkpoints counted batches
            start = m.step();
            lastCheckpoint = c.dir();
            if (root) out.printf(Locale.ROOT, "resuming %s from step %d (%s)%n", runDir, start, c.dir().getFileName());
            if (root && !m.backend().equals(model.device().backend())) {
                out.printf(Locale.ROOT, "note: the run was trained on %s and continues on %s (not bit-identical across backends)%n",
                        m.backend(), model.device().backend());
            }
            if (root && m.seed() != seed) out.printf(Locale.ROOT, "note: keeping the run's seed %d (not %d)%n", m.seed(), seed);
            precisions = PrecisionSegments.parse(m.config().get(PrecisionSegments.KEY));
            String before = precisions.get(precisions.size() - 1).precision();
            if (root && !before.equals(model.precisionId())) {
                out.printf(Locale.ROOT, "note: the run trained in %s up to step %d and continues in %s (checkpoints hold the fp32 masters either way)%n",
                        before, start, model.precisionId());
            }
        } else if (root) { // the other ranks would race rank 0's first files: the command checked the folder before the job began
            String used = ResumeCheck.inUse(runDir);
            if (used != null) throw new CheckpointException(runDir, used + "; resume it (--resume) or choose a new folder");
        }
        long end = stopAt > 0 ? Math.min(stopAt, steps) : steps;
        if (start >= end) {
            if (root) out.printf(Locale.ROOT, "nothing to do: the run is at step %d of %d%n", start, end);
            return new Result(start, history, lastCheckpoint);
        }
        if (root) Files.createDirectories(runDir);
        if (dp.ranks() > 1) {
            dp.broadcastState(model.state()); // every rank starts from rank 0's state
            model.restored(); // and derived copies (bf16 working weights) follow it
        }
        StepReplay.Anchor startAnchor = new StepReplay.Anchor(lastCheckpoint, start, rng.seed(), rng.position(), source.position());

        Map<String, String> manifestConfig = new LinkedHashMap<>(config);
        manifestConfig.put(PrecisionSegments.KEY, PrecisionSegments.format(PrecisionSegments.continued(precisions, start + 1, model.precisionId())));
        double elapsedBefore = history.isEmpty() ? 0 : history.get(history.size() - 1).elapsedSec();
        long began = System.nanoTime(), lastPrint = Long.MIN_VALUE;
        long settledBytes = -1; // device memory after the second step of this session: later growth is a leak
        boolean leakReported = false;
        try (MetricsLog log = root ? MetricsLog.open(runDir, history) : null;
             SignalStop signals = stopOnSignals ? SignalStop.install(System.err) : SignalStop.none()) {
            Interval interval = root ? new Interval(log, began, elapsedBefore, startAnchor) : null;
            for (long n = start + 1; n <= end; n++) {
                if (n == start + 1 && stopOnSignals && dp.anyRank(signals.requested() != null)) {
                    throw stopped(signals, start, lastCheckpoint, false);
                }
                double lr = schedule.lr(n - 1);
                StepStats stats;
                try {
                    stats = model.trainStep(source.nextShare(), n, lr, rng, dp);
                } catch (RuntimeException e) {
                    if (root) interval.flushAfter(e, lastCheckpoint); // rows (and any earlier bad step) of the steps that did run
                    throw e;
                }
                if (checkReplicasEvery > 0 && n % checkReplicasEvery == 0) checkReplicas(n);
                boolean stop = stopOnSignals && dp.anyRank(signals.requested() != null); // all ranks stop after the same step
                if (!root) { // the other ranks only train: rank 0 checks, logs and checkpoints
                    if (stop) throw stopped(signals, n, null, false);
                    continue;
                }
                interval.add(n, lr, stats);
                long bytes = model.device().bytesInUse();
                if (n == start + 2) settledBytes = bytes;
                else if (settledBytes >= 0 && bytes > settledBytes && !leakReported) {
                    out.printf(Locale.ROOT, "warning: device memory grew from %d to %d bytes by step %d (a step leaks buffers?)%n",
                            settledBytes, bytes, n);
                    leakReported = true;
                }
                boolean last = n == end;
                boolean checkpoint = last || stop || (checkpointEvery > 0 && n % checkpointEvery == 0);
                boolean printDue = last || n == start + 1 || System.nanoTime() - lastPrint >= progressEvery.toNanos();
                if (checkpoint || printDue || interval.size() >= statsEvery) {
                    MetricsRow row = interval.flush(lastCheckpoint);
                    if (printDue) {
                        progress(row, start, System.nanoTime() - began, n);
                        lastPrint = System.nanoTime();
                    }
                }
                if (checkpoint) {
                    CheckpointManifest m = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, n, steps, preset, modality,
                            model.device().backend(), rng.seed(), rng.position(), source.position(), manifestConfig, "", 0);
                    log.sync();
                    try {
                        lastCheckpoint = Checkpoint.save(runDir, m, model.state()).dir();
                    } catch (NonFiniteTensorException e) {
                        // A model that does not measure its weights per step: the save is the last line of defence.
                        throw new TrainingDivergedException(n, "the weights are not finite at step " + n + " (" + e.getMessage() + ")", null,
                                lastCheckpoint == null ? null : lastCheckpoint.toString());
                    }
                    if (keepLast > 0) Checkpoint.keepLast(runDir, keepLast);
                    if (plot) plot(log.rows());
                    interval.restart();
                }
                if (stop) throw stopped(signals, n, lastCheckpoint, true);
            }
            return new Result(end, root ? log.rows() : List.of(), lastCheckpoint);
        }
    }

    /** Every rank verifies that it holds rank 0's state, bit for bit; rank 0 says so. */
    private void checkReplicas(long n) {
        ReplicaCheck.Result r = ReplicaCheck.verify(model.state(), dp.communicator(), "after step " + n);
        if (dp.isRoot()) {
            out.printf(Locale.ROOT, "step %d: the state of all %d ranks is identical (%d tensors, checksum %s)%n", n, dp.ranks(), r.tensors(), r.hex());
        }
    }

    /** The run ends after a signal: where its checkpoint is and how to continue. */
    private RunStoppedException stopped(SignalStop signals, long step, Path checkpoint, boolean saved) {
        // In a data-parallel job the signal may have reached another rank first: this one stops with it.
        String signal = signals.requested() != null ? signals.requested() : "a signal to another rank";
        int exitCode = signals.requested() != null ? signals.exitCode() : 143;
        if (!dp.isRoot()) {
            return new RunStoppedException(signal, exitCode, step, "rank " + dp.rank() + " stopped by " + signal + " after step " + step
                    + " (rank 0 writes the checkpoint)");
        }
        String where = checkpoint == null ? "no checkpoint was written" : (saved ? "checkpoint written: " : "its last checkpoint is ") + checkpoint;
        String message = "stopped by " + signal + (saved ? " after step " + step : " before any step of this session") + "; " + where
                + (checkpoint == null ? "" : "; continue with: d2v pretrain --resume " + runDir);
        return new RunStoppedException(signal, exitCode, step, message);
    }


    /**
     * A step produced a non-finite value: the run stops. With a model factory, the step is first
     * replayed in checking mode from the last checkpoint (or the run's start) to name the first op
     * whose output was not finite; the run's model is closed before, to give the replay its memory.
     */
    private TrainingDivergedException diverged(long step, String what, Path lastCheckpoint, StepReplay.Anchor startAnchor) {
        String replay = null;
        // A replay needs the whole global batch in one process; a data-parallel job names the step only.
        if (rebuild != null && dp.ranks() > 1) replay = "(no replay in a data-parallel job: rerun from " + lastCheckpoint + " on one process to name the op)";
        else if (rebuild != null) {
            StepReplay.Anchor anchor = startAnchor;
            try {
                if (lastCheckpoint != null && !lastCheckpoint.equals(startAnchor.checkpoint())) {
                    CheckpointManifest m = Checkpoint.load(lastCheckpoint).manifest();
                    anchor = new StepReplay.Anchor(lastCheckpoint, m.step(), m.seed(), m.rngPosition(), m.dataPosition());
                }
                Device device = model.device();
                model.close();
                replay = StepReplay.run(rebuild, device, anchor, step, source, schedule, out);
            } catch (IOException | RuntimeException e) {
                replay = "(no replay: " + e.getMessage() + ")";
            }
        }
        return new TrainingDivergedException(step, what, replay, lastCheckpoint == null ? null : lastCheckpoint.toString());
    }

    /** A step whose statistics are not written yet. */
    private record PendingRow(long step, double lr, StepStats stats) {}

    /**
     * The steps since the statistics were last read. Flushing reads them (the first read drains the
     * device's ring: one download for all), checks them in step order and appends their rows; the
     * interval's wall time is shared evenly among its steps for the throughput columns.
     */
    private final class Interval {
        private final MetricsLog log;
        private final long began;
        private final double elapsedBefore;
        private final StepReplay.Anchor startAnchor;
        private final List<PendingRow> rows = new ArrayList<>();
        private long startedAt;

        Interval(MetricsLog log, long began, double elapsedBefore, StepReplay.Anchor startAnchor) {
            this.log = log;
            this.began = began;
            this.elapsedBefore = elapsedBefore;
            this.startedAt = began;
            this.startAnchor = startAnchor;
        }

        void add(long step, double lr, StepStats stats) { rows.add(new PendingRow(step, lr, stats)); }

        int size() { return rows.size(); }

        /** The time spent between intervals (checkpoints, plots) does not count towards the next one's steps. */
        void restart() { startedAt = System.nanoTime(); }

        /**
         * Writes the pending rows; returns the last. Throws at the first bad step, whose row is written
         * too: {@link TrainingDivergedException} for a non-finite loss, gradient norm or weight, an
         * IllegalStateException for a problem the model named (a collapse, a bad id); both name the
         * last good checkpoint.
         */
        MetricsRow flush(Path lastCheckpoint) throws IOException {
            if (rows.isEmpty()) return null;
            List<PendingRow> batch = List.copyOf(rows);
            rows.clear();
            batch.get(batch.size() - 1).stats().resolve();
            long now = System.nanoTime();
            double perStep = (now - startedAt) * 1e-9 / batch.size();
            double startElapsed = elapsedBefore + (startedAt - began) * 1e-9;
            startedAt = now;
            MetricsRow row = null;
            for (int i = 0; i < batch.size(); i++) {
                PendingRow p = batch.get(i);
                row = MetricsRow.of(p.step(), p.lr(), p.stats(), perStep, startElapsed + perStep * (i + 1));
                log.append(row);
                String nonFinite = p.stats().values().nonFinite(p.step());
                String problem = p.stats().problem();
                if (nonFinite != null || problem != null) {
                    log.sync(); // the failing step's row survives what follows
                    if (plot) plot(log.rows());
                    if (nonFinite != null) throw diverged(p.step(), nonFinite, lastCheckpoint, startAnchor);
                    throw new IllegalStateException(problem + "; training stopped. " + (lastCheckpoint == null
                            ? "No checkpoint was written yet." : "The last good checkpoint is " + lastCheckpoint + "."));
                }
            }
            return row;
        }

        /** After a failed step: writes the rows of the steps before it; an earlier bad step's error wins, the failure attached. */
        void flushAfter(RuntimeException failure, Path lastCheckpoint) {
            try {
                flush(lastCheckpoint);
            } catch (IOException e) {
                failure.addSuppressed(e);
            } catch (RuntimeException earlier) {
                earlier.addSuppressed(failure);
                throw earlier;
            }
        }
    }

    private void progress(MetricsRow r, long start, long nanos, long n) {
        double perStep = nanos * 1e-9 / (n - start);
        long eta = Math.round(perStep * ((stopAt > 0 ? Math.min(stopAt, steps) : steps) - n));
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
}
