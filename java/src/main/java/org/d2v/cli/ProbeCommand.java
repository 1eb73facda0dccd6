package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Probe;
import org.d2v.demo.ProbeTasks;
import org.d2v.eval.NonFiniteFeaturesException;
import org.d2v.eval.ProbeTask;
import org.d2v.train.CheckpointException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code d2v probe}: the linear probe of a pretrained run's checkpoint on its modality's task(s), next to the raw-feature probe. */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = {"Linear probe of a pretrained run on its modality's task (vs the same probe on raw features).", "",
                "Loads the latest checkpoint of a pretraining run (of 'd2v demo' or 'd2v pretrain'), extracts frozen encoder features "
                        + "(student encoder, eval mode, no masking; see --features) in batches of equal-shaped inputs, fits the linear probe "
                        + "(L-BFGS logistic regression on standardised features, L2 chosen on a held-out fifth of the training examples) and "
                        + "reports its test accuracy next to the same probe on raw features, for the run's modality:",
                "  image  Fashion-MNIST, official test set; against raw pixels (the published floor is 0.818, docs/data.md)",
                "  audio  spoken digits, whole voices held out (espeak's klatt variants, flite's slt), and across engines (train "
                        + "espeak-ng, test flite); against log-spectra",
                "  text   sentiment, one domain held out (each of imdb, amazon, yelp in turn, see --domain), tokenized with the run's "
                        + "own tokenizer; against bag of words; and, when --domain is not given, word order (held-out yelp sentences, "
                        + "half with their words after the first shuffled: a bag of words is at chance)",
                "Needs the data sets: make data (or d2v data install); or probe your own labeled data with --data and --test-data "
                        + "(floor: the same probe on raw features).", "", "Options (defaults in brackets):"})
public final class ProbeCommand extends CliCommand {
    @Mixin PretrainedRunOptions runOptions = new PretrainedRunOptions();

    @Option(names = "--probe-train", paramLabel = "N", description = "images: training images of the probe (the first N of 60k) [10000]")
    Integer probeTrain;

    @Option(names = "--probe-test", paramLabel = "N", description = "images: test images (the first N of the official 10k) [10000]")
    Integer probeTest;

    @Option(names = "--domain", paramLabel = "LIST", split = ",", description = "text: held-out sentiment domains, comma-separated [imdb,amazon,yelp]")
    List<String> domain;

    @Option(names = "--features", paramLabel = "F",
            description = "layers (final output mean-pooled, the CLS token for images, the encoder's input and each main block's FFN output, "
                    + "both mean-pooled, concatenated) or final (final output only) [layers]")
    String features;

    @Option(names = "--random-init", description = "also probe the same model at its random initialisation (the run's seed)")
    boolean randomInit;

    @Override
    public Integer call() throws Exception {
        Path dataRoot = runOptions.dataRoot();
        boolean layers = Options.layerFeatures(features);
        String backendName = runOptions.backendName();
        int tr = Options.atLeast("--probe-train", probeTrain, 10_000, 1), te = Options.atLeast("--probe-test", probeTest, 10_000, 1);
        PretrainedRun pretrained = runOptions.open();
        Data2VecConfig cfg = pretrained.config();
        List<ProbeTask> tasks = tasks(cfg, dataRoot, pretrained, tr, te);
        try (Device device = Backends.open(backendName)) {
            List<Probe.Outcome[]> results = new ArrayList<>();
            Precision p = runOptions.precision(device);
            try (FeatureModel model = Data2VecFeatures.factory(layers, p).apply(cfg, device)) {
                pretrained.checkpoint().restore(model);
                System.out.printf(Locale.ROOT, "probing %s (step %d of %s) on %s in %s%n", pretrained.path(), pretrained.manifest().step(),
                        pretrained.manifest().preset(), device.name(), p);
                for (ProbeTask t : tasks) results.add(new Probe.Outcome[] {pretrainedProbe(model, t, pretrained), Probe.raw(t), null});
            }
            if (randomInit) {
                try (FeatureModel fresh = Data2VecFeatures.factory(layers, p).apply(cfg.withSeed(pretrained.manifest().seed()), device)) {
                    for (int i = 0; i < tasks.size(); i++) results.get(i)[2] = Probe.encoder("random init", fresh, tasks.get(i));
                }
            }
            for (int i = 0; i < tasks.size(); i++) print(tasks.get(i), results.get(i));
        }
        return Cli.OK;
    }

    /** The probe of the run's encoder; features that are not finite are the checkpoint's fault, and named so. */
    private static Probe.Outcome pretrainedProbe(FeatureModel model, ProbeTask t, PretrainedRun run) throws CheckpointException {
        try {
            return Probe.encoder("pretrained", model, t);
        } catch (NonFiniteFeaturesException e) {
            throw new CheckpointException(run.path(), "its encoder's features on " + t.name() + " are not finite (" + e.getMessage()
                    + "): the weights are finite, but the model's activations overflow; probe an earlier checkpoint (--checkpoint)");
        }
    }

    private List<ProbeTask> tasks(Data2VecConfig cfg, Path dataRoot, PretrainedRun pretrained, int tr, int te) throws IOException {
        List<ProbeTask> tasks = ProbeTasks.forData(cfg, dataRoot, runOptions.testData, pretrained.tokenizer(), domain == null ? List.of() : domain);
        if (cfg.modality() instanceof ModalityConfig.Image) tasks = tasks.stream().map(t -> t.head(tr, te)).toList();
        return tasks;
    }

    /** The outcomes, then the margin over the raw-feature probe just measured (and the published floor where there is one). */
    private static void print(ProbeTask t, Probe.Outcome[] r) {
        System.out.printf(Locale.ROOT, "%s (%s / %s):%n", t.name(), t.train().describe(), t.test().describe());
        for (Probe.Outcome o : r) {
            if (o != null) System.out.printf(Locale.ROOT, "  %-22s test %.4f  train %.4f  (L2 %.0e, %.0f s)%n", o.what(), o.testAccuracy(), o.trainAccuracy(), o.l2(), o.seconds());
        }
        System.out.println("  " + t.margin(r[0].testAccuracy(), r[1].testAccuracy()));
    }
}
