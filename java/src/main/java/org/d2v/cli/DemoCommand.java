package org.d2v.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiFunction;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.DataDir;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.OptimConfig;
import org.d2v.demo.Args;
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.DemoPresets;
import org.d2v.demo.DemoResult;
import org.d2v.demo.DemoRun;
import org.d2v.demo.FashionData;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Report;
import org.d2v.demo.Study;

/**
 * {@code d2v demo}: the main job. Pretrains data2vec 2.0 on Fashion-MNIST for a wall-clock budget
 * on the fastest backend, then compares linear probes of the pretrained model, the same model at
 * random initialisation and raw pixels, and writes a report with plots.
 */
public final class DemoCommand implements Command {
    static final String HELP = """
            usage: d2v demo [options]

            Pretrains a small data2vec 2.0 image model on the Fashion-MNIST training set for a fixed
            wall-clock budget, then measures a linear probe (frozen encoder, no masking, features as
            --features says; L-BFGS logistic regression on standardised features, its L2 chosen on a
            held-out fifth of the probe's training images) on the official
            test set for three feature sets: the pretrained model, the same model at its random
            initialisation, and raw pixels. A quick probe on a subset is taken before training and after
            each of --probe-points equal parts of the run. Writes report.md, results.json, loss.png,
            probe_accuracy.png, masks.png, metrics.csv/jsonl and a checkpoint into the run folder.
            Needs Fashion-MNIST: make data (or d2v data install --sets fashion-mnist).

            options (defaults in brackets):
              --data DIR           data folder of 'd2v data install'       [build/data, or $D2V_DATA]
              --run DIR            run folder (must not hold a run yet)     [runs/demo-<date>-<time>]
              --minutes M          pretraining budget in minutes (turned into a step count from the
                                   measured seconds per step)                [12]
              --backend NAME       auto | reference | opencl | cuda. auto times a few steps on every
                                   available backend and trains on the fastest          [auto]
              --preset NAME        image-demo (patch 7, D 96, 4 blocks) or image-tiny, image-micro
                                                                             [image-demo]
              --batch N            images per update                        [preset's: 32]
              --clones M           masked copies per image                  [preset's: 4]
              --lr X               peak learning rate (cosine to 0, warm-up min(preset's, steps/10))
                                                                             [preset's: 0.002]
              --mask R             mask ratio R of the masker                [preset's: 0.75]
              --probe-points K     quick probes during pretraining           [4]
              --probe-train N      training images of the final probes (the first N)     [10000]
              --probe-test N       test images of the final probes (the first N of the 10k)  [10000]
              --quick-train N      training images of the quick probes       [1000]
              --quick-test N       test images of the quick probes           [500]
              --features F         probe features: layers (final output mean-pooled over patch tokens,
                                   the CLS token, and each main block's mean-pooled FFN output,
                                   concatenated) or final (the final output mean-pooled only); the
                                   same for the pretrained and the random-init model    [layers]
              --calibration-steps N  steps timed per backend, at least 2 (the first is not counted) [3]
              --no-flip            no random horizontal flips in pretraining
              --study              the small study instead of one run: the preset with its M clones and
                                   with M = 1, each for the full budget, each in its own sub-folder;
                                   study.md (table) and study.png (probe accuracy vs time) in the run
                                   folder
              --seed S             initialisation, masks, data order         [1]
              --help               print this text
            """;

    private static final Set<String> OPTIONS = Set.of("--data", "--run", "--minutes", "--backend", "--preset", "--batch", "--clones",
            "--lr", "--probe-points", "--probe-train", "--probe-test", "--quick-train", "--quick-test", "--calibration-steps", "--seed", "--features", "--mask");

    /** The model factory; null: data2vec 2.0 with the features --features names. */
    private BiFunction<Data2VecConfig, Device, FeatureModel> models;

    public DemoCommand() { this(null); }

    /** With another model factory (tests). */
    DemoCommand(BiFunction<Data2VecConfig, Device, FeatureModel> models) { this.models = models; }

    @Override public String name() { return "demo"; }

    @Override public String summary() { return "the main job: pretrain on Fashion-MNIST for a time budget, probe, write a report"; }

    @Override
    public int run(String[] argv) throws Exception {
        DemoRun.Options o;
        Path data;
        boolean study;
        try {
            Args a = Args.parse(argv, OPTIONS, Set.of("--no-flip", "--study"));
            if (a == null) {
                System.out.print(HELP);
                return 0;
            }
            study = a.flag("--study");
            data = Path.of(a.string("--data", DataDir.root().toString()));
            o = options(a);
            if (models == null) models = Data2VecFeatures.factory(layerFeatures(a));
        } catch (IllegalArgumentException e) {
            System.err.println("d2v demo: " + e.getMessage() + "\n(d2v demo --help lists the options)");
            return 2;
        }
        FashionData fashion;
        try {
            fashion = FashionData.load(data);
        } catch (java.io.IOException e) {
            System.err.println("d2v demo: " + e.getMessage());
            return 2;
        }
        System.out.printf(Locale.ROOT, "d2v demo: %d training and %d test images from %s; run folder %s%n",
                fashion.train().size(), fashion.test().size(), data, o.runDir());
        if (study) return study(o, fashion);
        DemoResult r = new DemoRun(o, models, System.out).run(fashion);
        System.out.println();
        System.out.printf(Locale.ROOT, "linear probe, Fashion-MNIST test (%d train / %d test images):%n", r.pretrained().trainSize(), r.pretrained().testSize());
        System.out.printf(Locale.ROOT, "  pretrained   %.4f%n  random init  %.4f%n  raw pixels   %.4f%n", r.pretrained().testAccuracy(),
                r.randomInit().testAccuracy(), r.rawPixels().testAccuracy());
        System.out.printf(Locale.ROOT, "pretrained %.1f s on %s: %d steps, %.1f samples/s, loss %.4f -> %.4f; bar (> %.3f, >= +5 points) %s%n",
                r.pretrainSeconds(), r.backend(), r.steps(), r.samplesPerSecond(), r.lossStart(), r.lossEnd(), Report.FASHION_FLOOR,
                r.meetsBar(Report.FASHION_FLOOR) ? "met" : "not met");
        System.out.println("report: " + o.runDir().resolve(Report.MARKDOWN));
        return 0;
    }

    /** Arms of equal budget: M clones (the preset's) and M = 1, with the same conv decoder and teacher. */
    private int study(DemoRun.Options o, FashionData fashion) throws Exception {
        List<Study.Arm> arms = new ArrayList<>();
        int m = o.config().clones();
        for (int clones : m == 1 ? new int[] {1} : new int[] {m, 1}) {
            String name = "data2vec 2.0, M = " + clones;
            System.out.printf(Locale.ROOT, "%n== study arm: %s%n", name);
            DemoResult r = new DemoRun(o.with(o.runDir().resolve("m" + clones), o.config().withClones(clones)), models, System.out).run(fashion);
            arms.add(new Study.Arm(name, r));
        }
        Study.write(o.runDir(), arms, List.of("The MAE-style arm (regressing pixels instead of teacher features) is not run: the data2vec "
                + "model of this build has no pixel-target option, and the demo does not reimplement the objective."));
        for (Study.Arm a : arms) {
            System.out.printf(Locale.ROOT, "%-22s %d steps, final probe %.4f%n", a.name(), a.result().steps(), a.result().pretrained().testAccuracy());
        }
        System.out.println("study: " + o.runDir().resolve(Study.MARKDOWN));
        return 0;
    }

    static DemoRun.Options options(Args a) {
        Data2VecConfig cfg = DemoPresets.named(a.string("--preset", DemoPresets.IMAGE_DEMO));
        if (!(cfg.modality() instanceof org.d2v.data2vec.config.ModalityConfig.Image)) {
            throw new IllegalArgumentException("--preset must be an image preset, got " + cfg.name());
        }
        long seed = a.longValue("--seed", 1);
        cfg = cfg.withSeed(seed).withBatchSize(a.positiveInt("--batch", cfg.batchSize())).withClones(a.positiveInt("--clones", cfg.clones()));
        var mk = cfg.mask();
        if (a.has("--mask")) {
            double r = a.positiveDouble("--mask", mk.prob());
            if (r >= 1) throw new IllegalArgumentException("--mask must be below 1, got " + r);
            cfg = new Data2VecConfig(cfg.name(), cfg.modality(), cfg.encoder(), new org.d2v.data2vec.config.MaskConfig(r, mk.adjust(), mk.length(), mk.inverse()),
                    cfg.decoder(), cfg.ema(), cfg.loss(), cfg.optim(), cfg.clones(), cfg.batchSize(), cfg.seed());
        }
        OptimConfig op = cfg.optim();
        cfg = cfg.withOptim(new OptimConfig(a.positiveDouble("--lr", op.lr()), op.beta1(), op.beta2(), op.eps(), op.weightDecay(),
                op.warmup(), op.maxUpdate(), op.clipNorm(), op.exemptFromDecay()));
        String run = a.string("--run", "runs/demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new DemoRun.Options(Path.of(run), cfg, backends(a.string("--backend", "auto")), a.positiveDouble("--minutes", 12) * 60,
                a.positiveInt("--calibration-steps", 3), a.positiveInt("--probe-points", 4),
                a.positiveInt("--probe-train", 10_000), a.positiveInt("--probe-test", 10_000), a.positiveInt("--quick-train", 1000),
                a.positiveInt("--quick-test", 500), seed, !a.flag("--no-flip"), 6);
    }

    /** --features: "layers" (final mean pool, CLS and every main block's pooled FFN output) or "final" (final mean pool only). */
    static boolean layerFeatures(Args a) {
        String f = a.string("--features", "layers");
        return switch (f) {
            case "layers" -> true;
            case "final" -> false;
            default -> throw new IllegalArgumentException("--features must be 'layers' or 'final', got '" + f + "'");
        };
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
