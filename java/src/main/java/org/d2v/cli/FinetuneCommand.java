package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.DataDir;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.Args;
import org.d2v.demo.Classifier;
import org.d2v.demo.Finetune;
import org.d2v.demo.ProbeTasks;
import org.d2v.eval.ProbeTask;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Scope;
import org.d2v.train.CheckpointException;

/** {@code d2v finetune}: full fine-tuning of a pretrained run with a classification head, on its modality's task. */
public final class FinetuneCommand implements Command {
    static final String HELP = """
            usage: d2v finetune --run <dir> [options]

            Fine-tunes the student encoder of a pretraining run's checkpoint (of 'd2v demo' or 'd2v
            pretrain') on its modality's task, every parameter trainable (spec §10): encoder without
            masking → mean over its tokens (no CLS) → LayerNorm → Linear head, softmax cross-entropy,
            AdamW (β 0.9/0.95), cosine schedule with linear warm-up. Prints the training loss and the test
            accuracy after every epoch. --from-scratch trains the same network from random
            initialisation instead (the baseline). Tasks, as for 'd2v probe': image Fashion-MNIST,
            audio spoken digits of held-out voices, text sentiment of a held-out domain (--domain).
            Clips and sentences of different lengths go through in equal-length groups, none padded.
            Your own labeled data works as for 'd2v probe': --data (ImageFolder tree, class folders of
            WAVs or .txt, a label<TAB>text .tsv) and --test-data, else every 5th example held out.

            options (defaults in brackets):
              --run DIR            the run folder (its latest checkpoint is used)            [required]
              --checkpoint NAME    a checkpoint folder of the run instead of the latest
              --data DIR           data folder of 'd2v data install', or your labeled data
                                                                   [build/data, or $D2V_DATA]
              --test-data PATH     your labeled test data, laid out as --data (else the 1-in-5 split)
              --backend NAME       reference | opencl | cuda | auto                         [auto]
              --epochs N           passes over the training examples                        [2]
              --batch N            examples per update                                      [64]
              --lr X               peak learning rate                                       [0.001]
              --weight-decay X     AdamW decoupled weight decay                             [0.05]
              --warmup X           fraction of the updates that warm up linearly            [0.1]
              --clip X             global gradient-norm clip, 0 = off                       [4]
              --train N            images: training images (the first N of 60k)             [10000]
              --test N             images: test images (the first N of the official 10k)    [10000]
              --domain D           text: the held-out sentiment domain (imdb, amazon, yelp) [imdb]
              --seed S             head initialisation, shuffling, dropout                  [1]
              --from-scratch       do not load the checkpoint's encoder (random-init baseline)
              --help               print this text
            """;

    private static final Set<String> OPTIONS = Set.of("--run", "--checkpoint", "--data", "--backend", "--epochs", "--batch", "--lr",
            "--weight-decay", "--warmup", "--clip", "--train", "--test", "--seed", "--domain", "--test-data");

    @Override public String name() { return "finetune"; }

    @Override public String summary() { return "fine-tune a pretrained run with a classification head (all parameters) on its task"; }

    @Override
    public int run(String[] argv) throws Exception {
        try {
            Args a = Args.parse(argv, OPTIONS, Set.of("--from-scratch"));
            if (a == null) {
                System.out.print(HELP);
                return 0;
            }
            Path dataRoot = Path.of(a.string("--data", DataDir.root().toString()));
            PretrainedRun run = PretrainedRun.open(a, dataRoot);
            Data2VecConfig cfg = run.config();
            double clip = a.has("--clip") ? Double.parseDouble(a.string("--clip", "4")) : 4;
            Finetune.Options o = new Finetune.Options(a.positiveInt("--epochs", 2), a.positiveInt("--batch", 64), a.positiveDouble("--lr", 1e-3),
                    a.has("--weight-decay") ? Double.parseDouble(a.string("--weight-decay", "0.05")) : 0.05,
                    a.has("--warmup") ? Double.parseDouble(a.string("--warmup", "0.1")) : 0.1, clip, a.longValue("--seed", 1));
            Path test = a.has("--test-data") ? Path.of(a.string("--test-data", null)) : null;
            ProbeTask task = ProbeTasks.forData(cfg, dataRoot, test, run.tokenizer(), List.of(a.string("--domain", "imdb"))).get(0);
            if (cfg.modality() instanceof ModalityConfig.Image) task = task.head(a.positiveInt("--train", 10_000), a.positiveInt("--test", 10_000));
            boolean scratch = a.flag("--from-scratch");
            ParameterStore.Builder b = ParameterStore.builder();
            Classifier model = new Classifier(b, cfg, task.train().classes());
            try (Device device = Backends.open(a.string("--backend", "auto")); Scope scope = Scope.open();
                 ParameterStore store = b.build(device, device.defaultFloat(), o.seed())) {
                if (!scratch) Classifier.loadEncoder(store, run.checkpoint().readAll(), run.path().toString());
                System.out.printf(Locale.ROOT, "fine-tuning %s (%s, step %d) on %s: %s (%s / %s), %d epochs of batch %d, lr %.3g%n",
                        scratch ? "a randomly initialised encoder" : run.path().toString(), run.manifest().preset(), run.manifest().step(), device.name(),
                        task.name(), task.train().describe(), task.test().describe(), o.epochs(), o.batchSize(), o.lr());
                System.out.printf(Locale.ROOT, "test accuracy before fine-tuning (random head): %.4f%n", Finetune.accuracy(model, task.test()));
                Finetune.Result r = Finetune.run(model, store, task.train(), task.test(), o, System.out);
                System.out.printf(Locale.ROOT, "done: test accuracy %.4f after %d updates (%.0f s)%n", r.testAccuracy()[r.testAccuracy().length - 1],
                        r.updates(), r.seconds());
            }
            return 0;
        } catch (IllegalArgumentException | CheckpointException e) {
            System.err.println("d2v finetune: " + e.getMessage() + "\n(d2v finetune --help lists the options)");
            return 2;
        } catch (IOException e) {
            System.err.println("d2v finetune: " + e.getMessage());
            return 2;
        }
    }

}
