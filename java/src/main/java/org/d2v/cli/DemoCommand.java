package org.d2v.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
import org.d2v.demo.Args;
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.DemoPresets;
import org.d2v.demo.DemoData;
import org.d2v.demo.DemoResult;
import org.d2v.demo.DemoRun;
import org.d2v.demo.FashionData;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Report;
import org.d2v.demo.Study;

/**
 * {@code d2v demo}: the main job. Pretrains data2vec 2.0 (on Fashion-MNIST by default; speech and text
 * with --modality) for a wall-clock budget on the fastest backend, then compares linear probes of
 * the pretrained model, the same model at random initialisation and raw features, and writes a
 * report with plots.
 */
public final class DemoCommand implements Command {
    static final String HELP = """
            usage: d2v demo [options]

            Pretrains a small data2vec 2.0 model for a fixed wall-clock budget, then measures a linear
            probe (frozen encoder, no masking, features as --features says; L-BFGS logistic regression on
            standardised features, its L2 chosen on a held-out fifth of the probe's training examples) on
            held-out data for three feature sets: the pretrained model, the same model at its random
            initialisation, and raw features. A quick probe on a subset is taken before training and after
            each of --probe-points equal parts of the run. Writes report.md, results.json, loss.png,
            probe_accuracy.png, metrics.csv/jsonl and a checkpoint into the run folder (images also
            masks.png and reconstruction.png; text also the tokenizer), and at each quick probe the
            diagnostics (teacher target layers, prediction spread and fit, effective ranks, teacher-
            student distance, position share of the targets; warnings on collapse or drift) into
            report.md, diagnostics.csv, diagnostics.png and effective_rank.png.
              image  pretrain on the Fashion-MNIST training set; probe on its official test set against raw
                     pixels (bar: above DATA.md's 0.818 and >= 5 points above random init)
              audio  pretrain on the KTuberling/KLettres recordings; probe on spoken digits of held-out voices
                     against log-spectra
              text   pretrain on Brown, State of the Union and Moby Dick; probe on sentiment with each domain
                     held out in turn against bag of words
            Needs the data: make data (or d2v data install --sets fashion-mnist|speech|text).

            options (defaults in brackets):
              --modality M         image | audio | text                                       [image]
              --data DIR           data folder of 'd2v data install'       [build/data, or $D2V_DATA]
              --run DIR            run folder (must not hold a run yet)     [runs/demo-<date>-<time>]
              --minutes M          pretraining budget in minutes (turned into a step count from the
                                   measured seconds per step)                [12]
              --steps N            a fixed number of updates instead of --minutes: the same run on a
                                   loaded or a quiet machine                  [from --minutes]
              --backend NAME       auto | reference | opencl | cuda. auto times a few steps on every
                                   available backend and trains on the fastest          [auto]
              --preset NAME        a preset of the modality: image-demo (patch 7, D 96, 4 blocks),
                                   audio-demo, text-demo, or a *-tiny / *-micro preset   [<modality>-demo]
              --batch N            samples per update                       [preset's]
              --clones M           masked copies per sample                 [preset's]
              --lr X               peak learning rate (cosine to 0, warm-up min(preset's, steps/10))
                                                                             [preset's]
              --mask R             mask ratio R of the masker                [preset's]
              --ema T0,TE          the teacher's EMA decay, rising linearly from T0 to TE over the run
                                                                             [preset's]
              --probe-points K     quick probes during pretraining           [4]
              --probe-train N      training examples of the final probes (the first N)   [10000]
              --probe-test N       test examples of the final probes (the first N)       [10000]
              --quick-train N      training examples of the quick probes (spread over the set) [1000]
              --quick-test N       test examples of the quick probes (spread over the set)     [500]
              --features F         probe features: layers (final output mean-pooled over the tokens,
                                   the CLS token for images, the encoder's input and each main block's
                                   FFN output, both mean-pooled, concatenated) or final (the final
                                   output mean-pooled only); the same for the pretrained and the
                                   random-init model                                        [layers]
              --calibration-steps N  steps timed per backend, at least 2 (the first is not counted) [3]
              --no-flip            images: no random horizontal flips in pretraining
              --study              images: the small study instead of one run, three arms of the full
                                   budget each in its own sub-folder: data2vec 2.0 with the preset's M
                                   clones, with M = 1, and an MAE-style arm (per-patch normalised pixels
                                   as targets, no teacher, M = 1, same encoder and conv decoder);
                                   study.md (table) and study.png (probe accuracy vs time) in the run
                                   folder
              --seed S             initialisation, masks, data order         [1]
              --help               print this text
            """;

    private static final Set<String> OPTIONS = Set.of("--data", "--run", "--minutes", "--backend", "--preset", "--batch", "--clones",
            "--lr", "--probe-points", "--probe-train", "--probe-test", "--quick-train", "--quick-test", "--calibration-steps", "--seed", "--features", "--mask",
            "--modality", "--ema", "--steps");

    /** The model factory; null: data2vec 2.0 with the features --features names. */
    private BiFunction<Data2VecConfig, Device, FeatureModel> models;

    public DemoCommand() { this(null); }

    /** With another model factory (tests). */
    DemoCommand(BiFunction<Data2VecConfig, Device, FeatureModel> models) { this.models = models; }

    @Override public String name() { return "demo"; }

    @Override public String summary() { return "the main job: pretrain for a time budget (Fashion-MNIST; speech, text), probe, write a report"; }

    @Override
    public int run(String[] argv) throws Exception {
        DemoRun.Options o;
        Path data;
        boolean study, flip;
        try {
            Args a = Args.parse(argv, OPTIONS, Set.of("--no-flip", "--study"));
            if (a == null) {
                System.out.print(HELP);
                return 0;
            }
            study = a.flag("--study");
            flip = !a.flag("--no-flip");
            data = Path.of(a.string("--data", DataDir.root().toString()));
            o = options(a);
            if (study && !(o.config().modality() instanceof ModalityConfig.Image)) throw new IllegalArgumentException("--study is for images");
            if (models == null) models = Data2VecFeatures.factory(layerFeatures(a));
        } catch (IllegalArgumentException e) {
            System.err.println("d2v demo: " + e.getMessage() + "\n(d2v demo --help lists the options)");
            return 2;
        }
        DemoData demo;
        try {
            ModalityConfig m = o.config().modality();
            demo = m instanceof ModalityConfig.Image ? DemoData.fashion(FashionData.load(data), flip)
                    : m instanceof ModalityConfig.Audio ? DemoData.speech(data) : DemoData.text(data, o.config());
        } catch (java.io.IOException e) {
            System.err.println("d2v demo: " + e.getMessage());
            return 2;
        }
        System.out.printf(Locale.ROOT, "d2v demo: %s from %s; probe tasks: %s; run folder %s%n", demo.description(), data,
                String.join("; ", demo.tasks().stream().map(t -> t.name() + " (" + t.train().describe() + " / " + t.test().describe() + ")").toList()),
                o.runDir());
        if (study) return study(o, demo);
        DemoResult r = new DemoRun(o, models, System.out).run(demo);
        System.out.println();
        for (DemoResult.TaskResult t : r.tasks()) {
            System.out.printf(Locale.ROOT, "linear probe, %s (%d train / %d test):%n", t.task(), t.pretrained().trainSize(), t.pretrained().testSize());
            System.out.printf(Locale.ROOT, "  pretrained   %.4f%n  random init  %.4f%n  %-12s %.4f%n  bar (%s) %s%n", t.pretrained().testAccuracy(),
                    t.randomInit().testAccuracy(), t.raw().what(), t.raw().testAccuracy(), t.bar(), t.met() ? "met" : "not met");
        }
        System.out.printf(Locale.ROOT, "pretrained %.1f s on %s: %d steps, %.1f samples/s, loss %.4f -> %.4f%n",
                r.pretrainSeconds(), r.backend(), r.steps(), r.samplesPerSecond(), r.lossStart(), r.lossEnd());
        System.out.println("report: " + o.runDir().resolve(Report.MARKDOWN));
        return 0;
    }

    /**
     * Arms of equal budget (spec §12's claims in small): data2vec 2.0 with the preset's M clones, with
     * M = 1, and the MAE-style pixel-target arm with M = 1 (one mask per image, no teacher, as MAE).
     */
    private int study(DemoRun.Options o, DemoData demo) throws Exception {
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
            arms.add(new Study.Arm(v.getKey(), new DemoRun(o.with(dir, v.getValue()), models, System.out).run(demo)));
        }
        Study.write(o.runDir(), arms, List.of("The MAE-style arm keeps the encoder, the masks and the conv decoder of the data2vec arms and "
                + "regresses each masked patch's pixels (normalised per patch, MAE's norm_pix_loss) instead of the teacher's features; MAE's "
                + "own Transformer decoder is not used."));
        for (Study.Arm a : arms) {
            System.out.printf(Locale.ROOT, "%-32s %d steps, final probe %.4f%n", a.name(), a.result().steps(), a.result().first().pretrained().testAccuracy());
        }
        System.out.println("study: " + o.runDir().resolve(Study.MARKDOWN));
        return 0;
    }

    static DemoRun.Options options(Args a) {
        String modality = a.string("--modality", "image");
        if (!List.of("image", "audio", "text").contains(modality)) throw new IllegalArgumentException("--modality must be image, audio or text, got '" + modality + "'");
        Data2VecConfig cfg = DemoPresets.named(a.string("--preset", modality + "-demo"));
        if (!cfg.modality().kind().equals(modality)) {
            throw new IllegalArgumentException("--preset " + cfg.name() + " is not a " + modality + " preset (see --modality)");
        }
        long seed = a.longValue("--seed", 1);
        cfg = cfg.withSeed(seed).withBatchSize(a.positiveInt("--batch", cfg.batchSize())).withClones(a.positiveInt("--clones", cfg.clones()));
        MaskConfig mk = cfg.mask();
        if (a.has("--mask")) {
            double r = a.positiveDouble("--mask", mk.prob());
            if (r >= 1) throw new IllegalArgumentException("--mask must be below 1, got " + r);
            cfg = cfg.withMask(new MaskConfig(r, mk.adjust(), mk.length(), mk.inverse()));
        }
        if (a.has("--ema")) {
            String[] t = a.string("--ema", "").split(",");
            try {
                if (t.length != 2) throw new NumberFormatException();
                cfg = cfg.withEma(new EmaConfig(Double.parseDouble(t[0].trim()), Double.parseDouble(t[1].trim()), cfg.ema().annealSteps()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ema needs two decays 'start,end', got '" + a.string("--ema", "") + "'");
            }
        }
        OptimConfig op = cfg.optim();
        cfg = cfg.withOptim(new OptimConfig(a.positiveDouble("--lr", op.lr()), op.beta1(), op.beta2(), op.eps(), op.weightDecay(),
                op.warmup(), op.maxUpdate(), op.clipNorm(), op.exemptFromDecay()));
        String run = a.string("--run", "runs/demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new DemoRun.Options(Path.of(run), cfg, backends(a.string("--backend", "auto")), a.positiveDouble("--minutes", 12) * 60,
                a.positiveInt("--calibration-steps", 3), a.positiveInt("--probe-points", 4),
                a.positiveInt("--probe-train", 10_000), a.positiveInt("--probe-test", 10_000), a.positiveInt("--quick-train", 1000),
                a.positiveInt("--quick-test", 500), seed, 6).withSteps(a.has("--steps") ? a.positiveInt("--steps", 1) : 0);
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
