package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.DataDir;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.Args;
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Probe;
import org.d2v.demo.ProbeTasks;
import org.d2v.eval.ProbeTask;
import org.d2v.train.CheckpointException;

/** {@code d2v probe}: the linear probe of a pretrained run's checkpoint on its modality's task(s), next to the raw-feature floor. */
public final class ProbeCommand implements Command {
    static final String HELP = """
            usage: d2v probe --run <dir> [options]

            Loads the latest checkpoint of a pretraining run (of 'd2v demo' or 'd2v pretrain'), extracts
            frozen encoder features (student encoder, eval mode, no masking; see --features) in batches of
            equal-shaped inputs, fits the linear probe (L-BFGS logistic regression on standardised
            features, L2 chosen on a held-out fifth of the training examples) and reports its test
            accuracy next to the same probe on raw features, for the run's modality:
              image  Fashion-MNIST, official test set; floor: raw pixels (DATA.md: 0.818)
              audio  spoken digits, whole voices held out (espeak's klatt variants, flite's slt), and
                     across engines (train espeak-ng, test flite); floor: log-spectra
              text   sentiment, one domain held out (each of imdb, amazon, yelp in turn, see --domain),
                     tokenized with the run's own tokenizer; floor: bag of words
            Needs the data sets: make data (or d2v data install). Or probe on your own labeled data with
            --data: an ImageFolder tree (<dir>/<class>/*.png|jpg...), class sub-folders of 16 kHz WAVs,
            class sub-folders of .txt files or a .tsv of label<TAB>text lines; held out: --test-data,
            else every 5th example of each class (in path order); floor: the same raw features.

            options (defaults in brackets):
              --run DIR            the run folder (it holds 'latest' and checkpoint-<step>/)    [required]
              --checkpoint NAME    a checkpoint folder of the run instead of the latest, e.g. checkpoint-200
              --data DIR           data folder of 'd2v data install', or your labeled data (above)
                                                                   [build/data, or $D2V_DATA]
              --test-data PATH     your labeled test data, laid out as --data (else the 1-in-5 split)
              --backend NAME       reference | opencl | cuda | auto (auto: highest priority available) [auto]
              --probe-train N      images: training images of the probe (the first N of 60k)   [10000]
              --probe-test N       images: test images (the first N of the official 10k)      [10000]
              --domain LIST        text: held-out sentiment domains, comma-separated  [imdb,amazon,yelp]
              --features F         layers (final output mean-pooled, the CLS token for images, the
                                   encoder's input and each main block's FFN output, both mean-pooled,
                                   concatenated) or final (final output only)                 [layers]
              --random-init        also probe the same model at its random initialisation (the run's seed)
              --help               print this text
            """;

    private static final Set<String> OPTIONS = Set.of("--run", "--checkpoint", "--data", "--backend", "--probe-train", "--probe-test",
            "--features", "--domain", "--test-data");

    @Override public String name() { return "probe"; }

    @Override public String summary() { return "linear probe of a pretrained run on its modality's task (vs the raw-feature floor)"; }

    @Override
    public int run(String[] argv) throws Exception {
        try {
            Args a = Args.parse(argv, OPTIONS, Set.of("--random-init"));
            if (a == null) {
                System.out.print(HELP);
                return 0;
            }
            Path dataRoot = Path.of(a.string("--data", DataDir.root().toString()));
            boolean layers = DemoCommand.layerFeatures(a);
            PretrainedRun run = PretrainedRun.open(a, dataRoot);
            Data2VecConfig cfg = run.config();
            List<ProbeTask> tasks = tasks(a, cfg, dataRoot, run);
            try (Device device = Backends.open(a.string("--backend", "auto"))) {
                List<Probe.Outcome[]> results = new ArrayList<>();
                try (FeatureModel model = Data2VecFeatures.factory(layers).apply(cfg, device)) {
                    run.checkpoint().restore(model);
                    System.out.printf(Locale.ROOT, "probing %s (step %d of %s) on %s%n", run.path(), run.manifest().step(), run.manifest().preset(), device.name());
                    for (ProbeTask t : tasks) results.add(new Probe.Outcome[] {Probe.encoder("pretrained", model, t), Probe.raw(t), null});
                }
                if (a.flag("--random-init")) {
                    try (FeatureModel fresh = Data2VecFeatures.factory(layers).apply(cfg.withSeed(run.manifest().seed()), device)) {
                        for (int i = 0; i < tasks.size(); i++) results.get(i)[2] = Probe.encoder("random init", fresh, tasks.get(i));
                    }
                }
                for (int i = 0; i < tasks.size(); i++) print(tasks.get(i), results.get(i));
            }
            return 0;
        } catch (IllegalArgumentException | CheckpointException e) {
            System.err.println("d2v probe: " + e.getMessage() + "\n(d2v probe --help lists the options)");
            return 2;
        } catch (IOException e) {
            System.err.println("d2v probe: " + e.getMessage());
            return 2;
        }
    }

    static List<ProbeTask> tasks(Args a, Data2VecConfig cfg, Path dataRoot, PretrainedRun run) throws IOException {
        List<String> domains = a.has("--domain") ? Arrays.asList(a.string("--domain", "").split(",")) : List.of();
        Path test = a.has("--test-data") ? Path.of(a.string("--test-data", null)) : null;
        List<ProbeTask> tasks = ProbeTasks.forData(cfg, dataRoot, test, run.tokenizer(), domains);
        if (cfg.modality() instanceof ModalityConfig.Image) {
            int tr = a.positiveInt("--probe-train", 10_000), te = a.positiveInt("--probe-test", 10_000);
            tasks = tasks.stream().map(t -> t.head(tr, te)).toList();
        }
        return tasks;
    }

    private static void print(ProbeTask t, Probe.Outcome[] r) {
        System.out.printf(Locale.ROOT, "%s (%s / %s):%n", t.name(), t.train().describe(), t.test().describe());
        for (Probe.Outcome o : r) {
            if (o != null) System.out.printf(Locale.ROOT, "  %-22s test %.4f  train %.4f  (L2 %.0e, %.0f s)%n", o.what(), o.testAccuracy(), o.trainAccuracy(), o.l2(), o.seconds());
        }
        double floor = t.floorGiven(r[1].testAccuracy());
        double points = 100 * (r[0].testAccuracy() - floor);
        System.out.printf(Locale.ROOT, "  pretrained is %.1f points %s the floor %.4f%n", Math.abs(points), points > 0 ? "above" : "below", floor);
    }
}
