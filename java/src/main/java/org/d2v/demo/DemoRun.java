package org.d2v.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.Precision;
import org.d2v.backend.RandomStream;
import org.d2v.data.image.Images;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.eval.ProbeTask;
import org.d2v.optim.CosineSchedule;
import org.d2v.train.BatchSource;
import org.d2v.train.MetricsRow;
import org.d2v.train.Pretrainer;
import org.d2v.train.RunFiles;
import org.d2v.train.StepStats;

/**
 * The main job: pretrain a model for a fixed wall-clock budget on the fastest backend, probe it
 * now and then on a subset of its first task, then probe the pretrained model, the same model at
 * its random initialisation and the raw features on every task of its {@link DemoData}, draw the
 * figures (images: masks, reconstruction) and write the report.
 *
 * <p>The budget is turned into a step count up front (the cosine schedule needs its length), from
 * the seconds per step measured while choosing the backend.
 */
public final class DemoRun {
    /** Test images on which the reconstruction fit is measured (the figure shows the first few). */
    static final int FIT_IMAGES = 200;

    /** The run's options; see {@code d2v demo --help} for their meaning. */
    public record Options(Path runDir, Data2VecConfig config, List<String> backends, double budgetSeconds,
                          int calibrationSteps, int probePoints, int probeTrain, int probeTest,
                          int quickTrain, int quickTest, long seed, int figureImages, long steps) {
        public Options {
            Objects.requireNonNull(runDir, "runDir");
            Objects.requireNonNull(config, "config");
            if (backends.isEmpty()) throw new IllegalArgumentException("no backend to run on");
            if (!(budgetSeconds > 0)) throw new IllegalArgumentException("the pretraining budget must be > 0 s, got " + budgetSeconds);
            if (calibrationSteps < 2) throw new IllegalArgumentException("calibration needs at least 2 steps");
            if (probePoints < 1) throw new IllegalArgumentException("probe points must be >= 1");
            if (probeTrain < 10 || probeTest < 10 || quickTrain < 10 || quickTest < 10) {
                throw new IllegalArgumentException("probe sets need at least 10 examples each");
            }
            if (steps < 0) throw new IllegalArgumentException("steps must be >= 0 (0: from the budget), got " + steps);
            backends = List.copyOf(backends);
        }

        /** Options whose step count comes from the wall-clock budget. */
        public Options(Path runDir, Data2VecConfig config, List<String> backends, double budgetSeconds, int calibrationSteps, int probePoints,
                       int probeTrain, int probeTest, int quickTrain, int quickTest, long seed, int figureImages) {
            this(runDir, config, backends, budgetSeconds, calibrationSteps, probePoints, probeTrain, probeTest, quickTrain, quickTest, seed,
                    figureImages, 0);
        }

        /** The same options with a fixed number of updates (0: from the budget), independent of the machine's load. */
        public Options withSteps(long n) {
            return new Options(runDir, config, backends, budgetSeconds, calibrationSteps, probePoints, probeTrain, probeTest, quickTrain, quickTest,
                    seed, figureImages, n);
        }

        /** The same options for another run folder and model (the study's arms). */
        public Options with(Path dir, Data2VecConfig cfg) {
            return new Options(dir, cfg, backends, budgetSeconds, calibrationSteps, probePoints, probeTrain, probeTest, quickTrain, quickTest,
                    seed, figureImages, steps);
        }
    }

    /** Builds the demo's model on a device in a precision. */
    @FunctionalInterface
    public interface Models {
        FeatureModel create(Data2VecConfig config, Device device, Precision precision);
    }

    private final Options o;
    private final Models models;
    private final String precision;
    private final PrintStream out;

    /** fp32 models from a factory that knows no precision (tests, stand-in models). */
    public DemoRun(Options options, BiFunction<Data2VecConfig, Device, FeatureModel> models, PrintStream out) {
        this(options, (c, d, p) -> models.apply(c, d), "fp32", out);
    }

    /**
     * With {@code precision} fp32, bf16 or auto: auto times each backend in every precision worth
     * trying there (bf16 on a GPU; fp32 and bf16 on a CPU OpenCL device; fp32 on the reference) and
     * keeps the fastest pair, as the backend calibration does.
     */
    public DemoRun(Options options, Models models, String precision, PrintStream out) {
        this.o = options;
        this.models = models;
        this.precision = precision;
        this.out = out;
    }

    /** A backend and a precision to run on, named "backend" for fp32 and "backend bf16" otherwise. */
    private record Candidate(String backend, Precision precision) {
        String label() { return precision.mixed() ? backend + " " + precision : backend; }
    }

    public DemoResult run(DemoData data) throws IOException {
        long began = System.nanoTime();
        List<String> notes = new ArrayList<>();
        List<ProbeTask> tasks = data.tasks().stream().map(t -> t.head(o.probeTrain(), o.probeTest())).toList();
        ProbeTask quick = data.tasks().get(0).quick(o.quickTrain(), o.quickTest());
        for (int i = 0; i < tasks.size(); i++) {
            int used = tasks.get(i).test().size(), all = data.tasks().get(i).test().size();
            if (used < all) notes.add(tasks.get(i).name() + ": the final probe used the first " + used + " of the " + all + " test examples");
        }

        Map<Candidate, Double> timed = calibrate(data);
        Candidate best = timed.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Map<String, Double> perStep = new LinkedHashMap<>();
        timed.forEach((c, s) -> perStep.put(c.label(), s));
        String backend = best.backend();
        double secondsPerStep = timed.get(best);
        long steps = o.steps() > 0 ? o.steps() : Math.max(o.probePoints(), Math.round(o.budgetSeconds() / secondsPerStep));
        steps = (steps + o.probePoints() - 1) / o.probePoints() * o.probePoints();
        out.printf(Locale.ROOT, "backend: %s (%s); %s -> %d steps%n", best.label(), describe(perStep),
                o.steps() > 0 ? "fixed step budget" : String.format(Locale.ROOT, "budget %.0f s", o.budgetSeconds()), steps);

        Data2VecConfig cfg = DemoPresets.annealOver(o.config(), steps);
        long warmup = Math.min(cfg.optim().warmup(), steps / 10);
        CosineSchedule schedule = new CosineSchedule(cfg.optim().lr(), warmup, steps, 0);
        Files.createDirectories(o.runDir());
        for (Map.Entry<String, Path> f : data.runFiles().entrySet()) {
            Files.copy(f.getValue(), o.runDir().resolve(f.getKey()), StandardCopyOption.REPLACE_EXISTING);
        }
        List<String> figures = new ArrayList<>();
        try (Device device = Backends.open(backend); FeatureModel model = models.create(cfg, device, best.precision())) {
            out.printf(Locale.ROOT, "model %s on %s: batch %d x %d clones, lr %.3g, warm-up %d%n",
                    cfg.name(), device.name(), cfg.batchSize(), cfg.clones(), cfg.optim().lr(), warmup);
            Images figureImages = data.figureImages() == null ? null : data.figureImages().images();
            ReconstructionFigure.Fit fitAtInit = null;
            if (figureImages != null) {
                MaskFigure.write(o.runDir().resolve(MaskFigure.FILE), data.figureImages(), model.masker(), cfg, o.figureImages(), o.seed());
                figures.add("`" + MaskFigure.FILE + "`: test images, an inverse block mask of the masker the model trains with, and what the student sees");
                fitAtInit = ReconstructionFigure.measure(model, cfg, figureImages, FIT_IMAGES, o.seed());
            }

            out.println("probing the model at its random initialisation ...");
            List<Probe.Outcome> randomInit = new ArrayList<>();
            for (ProbeTask t : tasks) randomInit.add(report(t, Probe.encoder("random init", model, t)));
            List<DemoResult.CurvePoint> curve = new ArrayList<>();
            curve.add(new DemoResult.CurvePoint(0, 0, report(quick, Probe.encoder("quick probe, step 0", model, quick))));
            // Text blocks and speech crops start anywhere, so position carries no content in them; in an image it does.
            org.d2v.data2vec.Batch positionBatch = null;
            if (!(cfg.modality() instanceof ModalityConfig.Image)) {
                try (BatchSource fixed = data.pretraining().open(cfg, o.seed() + 0x5eed)) {
                    positionBatch = fixed.next(); // a batch of its own stream: the run's data order is untouched
                }
            }
            RunDiagnostics diagnostics = RunDiagnostics.of(model, quick, o.seed(), positionBatch, out);
            diagnostics.measure(0, curve.get(0).probe().testAccuracy());

            List<MetricsRow> rows = List.of();
            try (BatchSource source = data.pretraining().open(cfg, o.seed())) {
                for (int k = 1; k <= o.probePoints(); k++) {
                    long upTo = steps * k / o.probePoints();
                    rows = Pretrainer.builder().model(model).source(source).runDir(o.runDir()).steps(upTo).schedule(schedule)
                            .seed(o.seed()).checkpointEvery(0).resume(k > 1).progressEvery(Duration.ofSeconds(30)).progress(out)
                            .describe(cfg.name(), cfg.modality().kind()).config("--backend", backend).config("--precision", best.precision().id())
                            .config("--batch", Integer.toString(cfg.batchSize()))
                            .config(RunFiles.TARGETS, cfg.loss().pixels() ? "pixels" : "teacher")
                            .build().run().metrics();
                    double t = rows.get(rows.size() - 1).elapsedSec();
                    curve.add(new DemoResult.CurvePoint(upTo, t, report(quick, Probe.encoder("quick probe, step " + upTo, model, quick))));
                    diagnostics.measure(upTo, curve.get(curve.size() - 1).probe().testAccuracy());
                }
            }
            out.println("probing the pretrained model ...");
            List<DemoResult.TaskResult> results = new ArrayList<>();
            for (int i = 0; i < tasks.size(); i++) {
                ProbeTask t = tasks.get(i);
                Probe.Outcome pretrained = report(t, Probe.encoder("pretrained", model, t));
                Probe.Outcome raw = report(t, Probe.raw(t));
                results.add(DemoResult.TaskResult.of(t, pretrained, randomInit.get(i), raw));
            }
            if (figureImages != null) {
                ReconstructionFigure.Fit fit = ReconstructionFigure.write(o.runDir().resolve(ReconstructionFigure.FILE), model, cfg, figureImages,
                        o.figureImages(), FIT_IMAGES, o.seed());
                if (fit != null) {
                    String line = "`" + ReconstructionFigure.FILE + "`: the targets' first principal component on the patch grid and the decoder's "
                            + "prediction of it at masked patches; on " + FIT_IMAGES + " test images the prediction fits its targets with " + fit
                            + " (at random initialisation: " + fitAtInit + ")";
                    figures.add(line);
                    out.println("reconstruction: " + fit + " (random init: " + fitAtInit + ")");
                }
            }

            double seconds = rows.get(rows.size() - 1).elapsedSec();
            long samples = steps * cfg.batchSize();
            DemoResult r = new DemoResult(data.description(), cfg.name(), summary(cfg), best.label(), device.name(), perStep, steps, cfg.batchSize(),
                    cfg.clones(), o.budgetSeconds(), seconds, samples / seconds, meanLoss(rows, true), meanLoss(rows, false), curve, results,
                    figures, (System.nanoTime() - began) / 1e9, notes);
            Report.write(o.runDir(), r);
            diagnostics.write(o.runDir(), cfg.name());
            return r;
        }
    }

    /** The precisions worth timing on {@code device} for the --precision option. */
    private List<Precision> precisions(Device device) {
        if (!precision.equals("auto")) return List.of(Precision.resolve(precision, device, "--precision:"));
        Precision auto = Precision.auto(device);
        // auto's fixed choice stands where there is nothing to measure: a GPU (bf16), the reference (fp32)
        boolean cpuKernels = device.ops() instanceof org.d2v.backend.kernel.KernelOps k
                && k.runtime().capabilities().kind() == org.d2v.backend.kernel.DeviceCapabilities.Kind.CPU;
        return cpuKernels ? List.of(Precision.FP32, Precision.BF16.check(device)) : List.of(auto.check(device));
    }

    /**
     * Seconds per step on each candidate backend and precision: a few steps on a throwaway model,
     * the first (compiling) one not counted.
     */
    private Map<Candidate, Double> calibrate(DemoData data) {
        Map<Candidate, Double> perStep = new LinkedHashMap<>();
        for (String name : o.backends()) {
            List<Precision> candidates;
            try (Device device = Backends.open(name)) {
                candidates = precisions(device);
            } catch (RuntimeException | LinkageError e) {
                out.printf(Locale.ROOT, "calibration: %s unavailable (%s)%n", name, e.getMessage());
                continue;
            }
            for (Precision p : candidates) calibrate(data, new Candidate(name, p), perStep);
        }
        if (perStep.isEmpty()) throw new IllegalStateException("none of the backends " + o.backends() + " could run the model");
        return perStep;
    }

    private void calibrate(DemoData data, Candidate c, Map<Candidate, Double> perStep) {
        String name = c.label();
        try (Device device = Backends.open(c.backend()); FeatureModel model = models.create(o.config(), device, c.precision());
             BatchSource source = data.pretraining().open(o.config(), o.seed() + 1)) {
            RandomStream rng = new RandomStream(o.seed() + 1);
            long start = 0;
            StepStats last = null;
            for (int n = 1; n <= o.calibrationSteps(); n++) {
                if (n == 2) {
                    last.resolve(); // a step only queues its work: wait for the first one before starting the clock
                    start = System.nanoTime();
                }
                last = model.trainStep(source.next(), n, o.config().optim().lr() * 1e-3, rng);
            }
            last.resolve();
            double s = (System.nanoTime() - start) / 1e9 / (o.calibrationSteps() - 1);
            perStep.put(c, s);
            out.printf(Locale.ROOT, "calibration: %s %.3f s/step%n", name, s);
        } catch (RuntimeException | LinkageError e) {
            out.printf(Locale.ROOT, "calibration: %s unavailable (%s)%n", name, e.getMessage());
        }
    }

    private Probe.Outcome report(ProbeTask t, Probe.Outcome p) {
        out.printf(Locale.ROOT, "  %-22s linear probe %5d/%5d: test %.4f (train %.4f), L2 %.0e, %.0f s  [%s]%n", p.what(), p.trainSize(), p.testSize(),
                p.testAccuracy(), p.trainAccuracy(), p.l2(), p.seconds(), t.name());
        return p;
    }

    /** Mean loss over the first (or last) tenth of the run, at least one and at most 20 steps. */
    static double meanLoss(List<MetricsRow> rows, boolean first) {
        int k = Math.max(1, Math.min(20, rows.size() / 10));
        double s = 0;
        for (int i = 0; i < k; i++) s += rows.get(first ? i : rows.size() - 1 - i).loss();
        return s / k;
    }

    static String summary(Data2VecConfig c) {
        var e = c.encoder();
        String input;
        if (c.modality() instanceof ModalityConfig.Image m) {
            input = String.format(Locale.ROOT, "%dx%d images, patch %d (%d tokens)", m.size(), m.size(), m.patch(), m.tokens());
        } else if (c.modality() instanceof ModalityConfig.Audio m) {
            input = String.format(Locale.ROOT, "%.2f s crops at 16 kHz, %d-layer conv stem (%d frames)", m.samples() / 16000.0, m.stem().size(), m.tokens());
        } else {
            ModalityConfig.Text m = (ModalityConfig.Text) c.modality();
            input = String.format(Locale.ROOT, "blocks of %d tokens, vocabulary %d", m.length(), m.vocab());
        }
        String targets = c.loss().pixels() ? "per-patch normalised pixel targets (MAE-style, no teacher)"
                : String.format(Locale.ROOT, "top-%d teacher targets, EMA %.4f->%.5f over %d", c.loss().topK(), c.ema().start(), c.ema().end(),
                c.ema().annealSteps());
        return String.format(Locale.ROOT, "%s, D %d, %d heads, %d prenet + %d main blocks, decoder %d ch x %d layers (k %d), %s, "
                        + "mask R %.2f (B %d), lr %.2g, wd %.2g", input, e.dim(), e.heads(), e.prenetDepth(), e.depth(), c.decoder().dim(),
                c.decoder().layers(), c.decoder().kernel(), targets, c.mask().prob(), c.mask().length(), c.optim().lr(), c.optim().weightDecay());
    }

    private static String describe(Map<String, Double> perStep) {
        StringBuilder b = new StringBuilder();
        perStep.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.3f s/step", k, v)));
        return b.toString();
    }
}
