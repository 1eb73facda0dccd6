package org.d2v.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.DataDir;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.EmaConfig;
import org.d2v.data2vec.config.MaskConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.OptimConfig;
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.DemoData;
import org.d2v.demo.DemoPresets;
import org.d2v.demo.DemoResult;
import org.d2v.demo.DemoRun;
import org.d2v.demo.FashionData;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Report;
import org.d2v.demo.Study;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code d2v demo}: the main job. Pretrains data2vec 2.0 (on Fashion-MNIST by default; speech and text
 * with --modality) for a wall-clock budget on the fastest backend, then compares linear probes of
 * the pretrained model, the same model at random initialisation and raw features, and writes a
 * report with plots.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = {"The main job: pretrain for a time budget (Fashion-MNIST; speech, text), probe, write a report.", "",
                "Pretrains a small data2vec 2.0 model for a fixed wall-clock budget, then measures a linear probe (frozen encoder, no "
                        + "masking, features as --features says; L-BFGS logistic regression on standardised features, its L2 chosen on a "
                        + "held-out fifth of the probe's training examples) on held-out data for three feature sets: the pretrained model, "
                        + "the same model at its random initialisation, and raw features. A quick probe on a subset is taken before "
                        + "training and after each of --probe-points equal parts of the run. Writes report.md, results.json, loss.png, "
                        + "probe_accuracy.png, metrics.csv/jsonl and a checkpoint into the run folder (images also masks.png and "
                        + "reconstruction.png; text also the tokenizer), and at each quick probe the diagnostics (teacher target layers, "
                        + "prediction spread and fit, effective ranks, teacher-student distance, position share of the targets; warnings "
                        + "on collapse or drift) into report.md, diagnostics.csv, diagnostics.png and effective_rank.png.",
                "  image  pretrain on the Fashion-MNIST training set; probe on its official test set against raw pixels (bar: above "
                        + "the published raw-pixel floor 0.818 of docs/data.md and >= 5 points above random init)",
                "  audio  pretrain on the KTuberling/KLettres recordings; probe on spoken digits of held-out voices against log-spectra",
                "  text   pretrain on Brown, State of the Union and Moby Dick; probe on sentiment with each domain held out in turn "
                        + "against bag of words",
                "Needs the data: make data (or d2v data install --sets fashion-mnist|speech|text).", "", "Options (defaults in brackets):"})
public final class DemoCommand extends CliCommand {
    @Option(names = "--modality", paramLabel = "M", description = "image | audio | text [image]")
    String modality;

    @Option(names = "--data", paramLabel = "DIR", description = "data folder of 'd2v data install' [build/data, or $D2V_DATA]")
    Path data;

    @Option(names = "--run", paramLabel = "DIR", description = "run folder (must not hold a run yet) [runs/demo-<date>-<time>]")
    Path run;

    @Option(names = "--minutes", paramLabel = "M",
            description = "pretraining budget in minutes (turned into a step count from the measured seconds per step) [12]")
    Double minutes;

    @Option(names = "--steps", paramLabel = "N",
            description = "a fixed number of updates instead of --minutes: the same run on a loaded or a quiet machine [from --minutes]")
    Integer steps;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "auto | reference | opencl | cuda. auto times a few steps on every available backend and trains on the fastest [auto]")
    String backend;

    @Option(names = "--precision", paramLabel = "P",
            description = "fp32 | bf16 (bf16 activations, fp32 master weights; docs/precision.md) | auto: bf16 on a GPU; on a CPU "
                    + "OpenCL device both are timed with the backends and the faster one trains [auto]")
    String precision;

    @Option(names = "--preset", paramLabel = "NAME",
            description = "a preset of the modality: image-demo (patch 7, D 96, 4 blocks), audio-demo, text-demo, or a *-tiny / *-micro "
                    + "preset [<modality>-demo]")
    String preset;

    @Option(names = "--batch", paramLabel = "N", description = "samples per update [preset's]")
    Integer batch;

    @Option(names = "--clones", paramLabel = "M", description = "masked copies per sample [preset's]")
    Integer clones;

    @Option(names = "--lr", paramLabel = "X", description = "peak learning rate (cosine to 0, warm-up min(preset's, steps/10)) [preset's]")
    Double lr;

    @Option(names = "--mask", paramLabel = "R", description = "mask ratio R of the masker [preset's]")
    Double mask;

    @Option(names = "--ema", paramLabel = "T0,TE", split = ",",
            description = "the teacher's EMA decay, rising linearly from T0 to TE over the run [preset's]")
    List<Double> ema;

    @Option(names = "--probe-points", paramLabel = "K", description = "quick probes during pretraining [4]")
    Integer probePoints;

    @Option(names = "--probe-train", paramLabel = "N", description = "training examples of the final probes (the first N) [10000]")
    Integer probeTrain;

    @Option(names = "--probe-test", paramLabel = "N", description = "test examples of the final probes (the first N) [10000]")
    Integer probeTest;

    @Option(names = "--quick-train", paramLabel = "N", description = "training examples of the quick probes (spread over the set) [1000]")
    Integer quickTrain;

    @Option(names = "--quick-test", paramLabel = "N", description = "test examples of the quick probes (spread over the set) [500]")
    Integer quickTest;

    @Option(names = "--features", paramLabel = "F",
            description = "probe features: layers (final output mean-pooled over the tokens, the CLS token for images, the encoder's input "
                    + "and each main block's FFN output, both mean-pooled, concatenated) or final (the final output mean-pooled only); the "
                    + "same for the pretrained and the random-init model [layers]")
    String features;

    @Option(names = "--calibration-steps", paramLabel = "N", description = "steps timed per backend, at least 2 (the first is not counted) [3]")
    Integer calibrationSteps;

    @Option(names = "--no-flip", description = "images: no random horizontal flips in pretraining")
    boolean noFlip;

    @Option(names = "--study",
            description = "images: the small study instead of one run, three arms of the full budget each in its own sub-folder: data2vec "
                    + "2.0 with the preset's M clones, with M = 1, and an MAE-style arm (per-patch normalised pixels as targets, no "
                    + "teacher, M = 1, same encoder and conv decoder); study.md (table) and study.png (probe accuracy vs time) in the run "
                    + "folder")
    boolean study;

    @Option(names = "--seed", paramLabel = "S", description = "initialisation, masks, data order [1]")
    Long seed;

    /** The model factory; null: data2vec 2.0 with the features --features names. */
    private final BiFunction<Data2VecConfig, Device, FeatureModel> models;

    public DemoCommand() { this(null); }

    /** With another model factory (tests). */
    DemoCommand(BiFunction<Data2VecConfig, Device, FeatureModel> models) { this.models = models; }

    @Override
    public Integer call() throws Exception {
        Path dataRoot = data != null ? data : DataDir.root();
        DemoRun.Options o = options();
        if (study && !(o.config().modality() instanceof ModalityConfig.Image)) throw new IllegalArgumentException("--study: is for images");
        String p = precision == null ? "auto" : precision;
        if (!List.of("fp32", "bf16", "auto").contains(p)) throw new IllegalArgumentException("--precision: must be fp32, bf16 or auto, got '" + p + "'");
        boolean layers = Options.layerFeatures(features);
        DemoRun.Models factory = models != null ? (c, d, q) -> models.apply(c, d)
                : (c, d, q) -> Data2VecFeatures.factory(layers, q).apply(c, d);
        if (models != null) p = "fp32"; // a stand-in model knows no precision
        ModalityConfig m = o.config().modality();
        DemoData demo = m instanceof ModalityConfig.Image ? DemoData.fashion(FashionData.load(dataRoot), !noFlip)
                : m instanceof ModalityConfig.Audio ? DemoData.speech(dataRoot) : DemoData.text(dataRoot, o.config());
        System.out.printf(Locale.ROOT, "d2v demo: %s from %s; probe tasks: %s; run folder %s%n", demo.description(), dataRoot,
                String.join("; ", demo.tasks().stream().map(t -> t.name() + " (" + t.train().describe() + " / " + t.test().describe() + ")").toList()),
                o.runDir());
        if (study) return study(o, demo, factory, p);
        DemoResult r = new DemoRun(o, factory, p, System.out).run(demo);
        System.out.println();
        for (DemoResult.TaskResult t : r.tasks()) {
            System.out.printf(Locale.ROOT, "linear probe, %s (%d train / %d test):%n", t.task(), t.pretrained().trainSize(), t.pretrained().testSize());
            System.out.printf(Locale.ROOT, "  pretrained   %.4f%n  random init  %.4f%n  %-12s %.4f%n  bar (%s) %s%n", t.pretrained().testAccuracy(),
                    t.randomInit().testAccuracy(), t.raw().what(), t.raw().testAccuracy(), t.bar(), t.met() ? "met" : "not met");
        }
        System.out.printf(Locale.ROOT, "pretrained %.1f s on %s: %d steps, %.1f samples/s, loss %.4f -> %.4f%n",
                r.pretrainSeconds(), r.backend(), r.steps(), r.samplesPerSecond(), r.lossStart(), r.lossEnd());
        System.out.println("report: " + o.runDir().resolve(Report.MARKDOWN));
        return Cli.OK;
    }

    /**
     * Arms of equal budget (docs/algorithm.md §12's claims in small): data2vec 2.0 with the preset's M clones, with
     * M = 1, and the MAE-style pixel-target arm with M = 1 (one mask per image, no teacher, as MAE).
     */
    private int study(DemoRun.Options o, DemoData demo, DemoRun.Models models, String precision) throws Exception {
        int m = o.config().clones();
        Map<String, Data2VecConfig> variants = new LinkedHashMap<>();
        variants.put("data2vec 2.0, M = " + m, o.config());
        if (m != 1) variants.put("data2vec 2.0, M = 1", o.config().withClones(1));
        variants.put("MAE-style pixel targets, M = 1", o.config().withClones(1).withPixelTargets());
        List<Study.Arm> arms = new ArrayList<>();
        int k = 0;
        for (Map.Entry<String, Data2VecConfig> v : variants.entrySet()) {
            System.out.printf(Locale.ROOT, "%n== study arm: %s%n", v.getKey());
            Path dir = o.runDir().resolve("arm" + ++k + "-" + (v.getValue().loss().pixels() ? "pixels" : "d2v") + "-m" + v.getValue().clones());
            arms.add(new Study.Arm(v.getKey(), new DemoRun(o.with(dir, v.getValue()), models, precision, System.out).run(demo)));
        }
        Study.write(o.runDir(), arms, List.of("The MAE-style arm keeps the encoder, the masks and the conv decoder of the data2vec arms and "
                + "regresses each masked patch's pixels (normalised per patch, MAE's norm_pix_loss) instead of the teacher's features; MAE's "
                + "own Transformer decoder is not used."));
        for (Study.Arm a : arms) {
            System.out.printf(Locale.ROOT, "%-32s %d steps, final probe %.4f%n", a.name(), a.result().steps(), a.result().first().pretrained().testAccuracy());
        }
        System.out.println("study: " + o.runDir().resolve(Study.MARKDOWN));
        return Cli.OK;
    }

    /** The run these options describe (checked before any work starts). */
    DemoRun.Options options() {
        String mod = modality == null ? "image" : modality;
        if (!List.of("image", "audio", "text").contains(mod)) throw new IllegalArgumentException("--modality: must be image, audio or text, got '" + mod + "'");
        Data2VecConfig cfg;
        try {
            cfg = DemoPresets.named(preset == null ? mod + "-demo" : preset);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--preset: " + e.getMessage());
        }
        if (!cfg.modality().kind().equals(mod)) {
            throw new IllegalArgumentException("--preset: " + cfg.name() + " is not a " + mod + " preset (see --modality)");
        }
        long s = seed == null ? 1 : seed;
        cfg = cfg.withSeed(s).withBatchSize(Options.atLeast("--batch", batch, cfg.batchSize(), 1))
                .withClones(Options.atLeast("--clones", clones, cfg.clones(), 1));
        MaskConfig mk = cfg.mask();
        if (mask != null) {
            double r = Options.positive("--mask", mask, mk.prob());
            if (r >= 1) throw new IllegalArgumentException("--mask: must be below 1, got " + r);
            cfg = cfg.withMask(new MaskConfig(r, mk.adjust(), mk.length(), mk.inverse()));
        }
        if (ema != null) {
            if (ema.size() != 2) throw new IllegalArgumentException("--ema: needs two decays 'start,end', got " + ema.size());
            cfg = cfg.withEma(new EmaConfig(ema.get(0), ema.get(1), cfg.ema().annealSteps()));
        }
        OptimConfig op = cfg.optim();
        cfg = cfg.withOptim(new OptimConfig(Options.positive("--lr", lr, op.lr()), op.beta1(), op.beta2(), op.eps(), op.weightDecay(),
                op.warmup(), op.maxUpdate(), op.clipNorm(), op.exemptFromDecay()));
        Options.layerFeatures(features);
        Path runDir = run != null ? run : Path.of("runs/demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new DemoRun.Options(runDir, cfg, backends(Options.backend("--backend", backend)), Options.positive("--minutes", minutes, 12) * 60,
                Options.atLeast("--calibration-steps", calibrationSteps, 3, 1), Options.atLeast("--probe-points", probePoints, 4, 1),
                Options.atLeast("--probe-train", probeTrain, 10_000, 1), Options.atLeast("--probe-test", probeTest, 10_000, 1),
                Options.atLeast("--quick-train", quickTrain, 1000, 1), Options.atLeast("--quick-test", quickTest, 500, 1), s, 6)
                .withSteps(steps == null ? 0 : Options.atLeast("--steps", steps, 1, 1));
    }

    /** "auto": every available backend, to be timed; otherwise the one named. */
    static List<String> backends(String name) {
        if (!"auto".equals(name)) {
            Backends.find(name); // unknown names fail here, with the list of known ones
            return List.of(name);
        }
        List<String> out = new ArrayList<>();
        for (Backend b : Backends.all()) if (b.probe().available()) out.add(b.name());
        return out;
    }
}
