package org.d2v.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.Classifier;
import org.d2v.demo.Finetune;
import org.d2v.demo.ProbeTasks;
import org.d2v.eval.ProbeTask;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Scope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code d2v finetune}: full fine-tuning of a pretrained run with a classification head, on its modality's task. */
@Command(name = "finetune", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = {"Fine-tune a pretrained run with a classification head (all parameters) on its task.", "",
                "Fine-tunes the student encoder of a pretraining run's checkpoint (of 'd2v demo' or 'd2v pretrain') on its modality's "
                        + "task, every parameter trainable (docs/algorithm.md §10): encoder without masking -> mean over its tokens (no CLS) "
                        + "-> LayerNorm -> Linear head, softmax cross-entropy, AdamW (beta 0.9/0.95), cosine schedule with linear warm-up. "
                        + "Prints the training loss and the test accuracy after every epoch. --from-scratch trains the same network from "
                        + "random initialisation instead (the baseline). Tasks, as for 'd2v probe': image Fashion-MNIST, audio spoken digits "
                        + "of held-out voices, text sentiment of a held-out domain (--domain). Clips and sentences of different lengths go "
                        + "through in equal-length groups, none padded.", "", "Options (defaults in brackets):"})
public final class FinetuneCommand extends CliCommand {
    @Mixin PretrainedRunOptions runOptions = new PretrainedRunOptions();

    @Option(names = "--epochs", paramLabel = "N", description = "passes over the training examples [2]")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "N", description = "examples per update [64]")
    Integer batch;

    @Option(names = "--lr", paramLabel = "X", description = "peak learning rate [0.001]")
    Double lr;

    @Option(names = "--weight-decay", paramLabel = "X", description = "AdamW decoupled weight decay [0.05]")
    Double weightDecay;

    @Option(names = "--warmup", paramLabel = "X", description = "fraction of the updates that warm up linearly [0.1]")
    Double warmup;

    @Option(names = "--clip", paramLabel = "X", description = "global gradient-norm clip, 0 = off [4]")
    Double clip;

    @Option(names = "--train", paramLabel = "N", description = "images: training images (the first N of 60k) [10000]")
    Integer train;

    @Option(names = "--test", paramLabel = "N", description = "images: test images (the first N of the official 10k) [10000]")
    Integer test;

    @Option(names = "--domain", paramLabel = "D", description = "text: the held-out sentiment domain (imdb, amazon, yelp) [imdb]")
    String domain;

    @Option(names = "--seed", paramLabel = "S", description = "head initialisation, shuffling, dropout [1]")
    Long seed;

    @Option(names = "--from-scratch", description = "do not load the checkpoint's encoder (random-init baseline)")
    boolean fromScratch;

    @Override
    public Integer call() throws Exception {
        Path dataRoot = runOptions.dataRoot();
        double warm = Options.nonNegative("--warmup", warmup, 0.1);
        if (warm >= 1) throw new IllegalArgumentException("--warmup: must be below 1 (a fraction of the updates), got " + warm);
        Finetune.Options o = new Finetune.Options(Options.atLeast("--epochs", epochs, 2, 1), Options.atLeast("--batch", batch, 64, 1),
                Options.positive("--lr", lr, 1e-3), Options.nonNegative("--weight-decay", weightDecay, 0.05),
                warm, Options.nonNegative("--clip", clip, 4), seed == null ? 1 : seed);
        int trainSize = Options.atLeast("--train", train, 10_000, 1), testSize = Options.atLeast("--test", test, 10_000, 1);
        String backendName = runOptions.backendName();
        PretrainedRun pretrained = runOptions.open();
        Data2VecConfig cfg = pretrained.config();
        ProbeTask task = ProbeTasks.forData(cfg, dataRoot, runOptions.testData, pretrained.tokenizer(), List.of(domain == null ? "imdb" : domain)).get(0);
        if (cfg.modality() instanceof ModalityConfig.Image) task = task.head(trainSize, testSize);
        ParameterStore.Builder b = ParameterStore.builder();
        Classifier model = new Classifier(b, cfg, task.train().classes());
        try (Device device = Backends.open(backendName); Scope scope = Scope.open();
             ParameterStore store = build(b, device, o.seed())) {
            if (!fromScratch) Classifier.loadEncoder(store, pretrained.checkpoint().readAll(), pretrained.path().toString());
            System.out.printf(Locale.ROOT, "fine-tuning %s (%s, step %d) on %s: %s (%s / %s), %d epochs of batch %d, lr %.3g%n",
                    fromScratch ? "a randomly initialised encoder" : pretrained.path().toString(), pretrained.manifest().preset(),
                    pretrained.manifest().step(), device.name() + " in " + Precision.of(store.dtype()).withActivations(store.workingDtype()), task.name(), task.train().describe(), task.test().describe(), o.epochs(),
                    o.batchSize(), o.lr());
            System.out.printf(Locale.ROOT, "test accuracy before fine-tuning (random head): %.4f%n", Finetune.accuracy(model, task.test()));
            Finetune.Result r = Finetune.run(model, store, task.train(), task.test(), o, System.out);
            System.out.printf(Locale.ROOT, "done: test accuracy %.4f after %d updates (%.0f s)%n", r.testAccuracy()[r.testAccuracy().length - 1],
                    r.updates(), r.seconds());
        }
        return Cli.OK;
    }

    /** The classifier's store on {@code device}: fp32 masters, and a bf16 working copy when --precision asks for bf16. */
    private ParameterStore build(ParameterStore.Builder b, Device device, long seed) {
        Precision p = runOptions.precision(device);
        return b.build(device, p.master(), p.activations(), seed);
    }
}
