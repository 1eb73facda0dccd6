package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.DataDir;
import org.d2v.data.image.LabeledImages;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.demo.Args;
import org.d2v.demo.FashionData;
import org.d2v.demo.Finetune;
import org.d2v.demo.ImageClassifier;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Scope;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointException;
import org.d2v.train.CheckpointManifest;

/** {@code d2v finetune}: full fine-tuning of a pretrained image run with a classification head. */
public final class FinetuneCommand implements Command {
    static final String HELP = """
            usage: d2v finetune --run <dir> [options]

            Fine-tunes the student encoder of an image run's checkpoint (of 'd2v demo' or 'd2v pretrain
            --modality image') on Fashion-MNIST, every parameter trainable (spec §10): encoder without
            masking → mean over patch tokens (no CLS) → LayerNorm → Linear head, softmax cross-entropy,
            AdamW (β 0.9/0.95), cosine schedule with linear warm-up. Prints the training loss and the test
            accuracy after every epoch. --from-scratch trains the same network from random
            initialisation instead (the baseline). Audio and text runs are not fine-tuned yet.

            options (defaults in brackets):
              --run DIR            the run folder (its latest checkpoint is used)            [required]
              --checkpoint NAME    a checkpoint folder of the run instead of the latest
              --data DIR           data folder of 'd2v data install'   [build/data, or $D2V_DATA]
              --backend NAME       reference | opencl | cuda | auto                         [auto]
              --epochs N           passes over the training images                          [2]
              --batch N            images per update                                        [64]
              --lr X               peak learning rate                                       [0.001]
              --weight-decay X     AdamW decoupled weight decay                             [0.05]
              --warmup X           fraction of the updates that warm up linearly            [0.1]
              --clip X             global gradient-norm clip, 0 = off                       [4]
              --train N            training images (the first N of 60k)                     [10000]
              --test N             test images (the first N of the official 10k)           [10000]
              --seed S             head initialisation, shuffling, dropout                  [1]
              --from-scratch       do not load the checkpoint's encoder (random-init baseline)
              --help               print this text
            """;

    private static final Set<String> OPTIONS = Set.of("--run", "--checkpoint", "--data", "--backend", "--epochs", "--batch", "--lr",
            "--weight-decay", "--warmup", "--clip", "--train", "--test", "--seed");

    @Override public String name() { return "finetune"; }

    @Override public String summary() { return "fine-tune a pretrained image run with a classification head (all parameters)"; }

    @Override
    public int run(String[] argv) throws Exception {
        try {
            Args a = Args.parse(argv, OPTIONS, Set.of("--from-scratch"));
            if (a == null) {
                System.out.print(HELP);
                return 0;
            }
            ImageRun run = ImageRun.open(a, "finetune", "fine-tuned");
            if (run == null) return 1;
            Path ckpt = run.path();
            Checkpoint c = run.checkpoint();
            CheckpointManifest m = run.manifest();
            Data2VecConfig cfg = run.config();
            double clip = a.has("--clip") ? Double.parseDouble(a.string("--clip", "4")) : 4;
            Finetune.Options o = new Finetune.Options(a.positiveInt("--epochs", 2), a.positiveInt("--batch", 64), a.positiveDouble("--lr", 1e-3),
                    a.has("--weight-decay") ? Double.parseDouble(a.string("--weight-decay", "0.05")) : 0.05,
                    a.has("--warmup") ? Double.parseDouble(a.string("--warmup", "0.1")) : 0.1, clip, a.longValue("--seed", 1));
            FashionData data = FashionData.load(Path.of(a.string("--data", DataDir.root().toString())));
            LabeledImages train = head(data.train(), a.positiveInt("--train", 10_000));
            LabeledImages test = head(data.test(), a.positiveInt("--test", 10_000));
            boolean scratch = a.flag("--from-scratch");
            ParameterStore.Builder b = ParameterStore.builder();
            ImageClassifier model = new ImageClassifier(b, cfg, train.classes());
            try (Device device = Backends.open(a.string("--backend", "auto")); Scope scope = Scope.open();
                 ParameterStore store = b.build(device, device.defaultFloat(), o.seed())) {
                if (!scratch) ImageClassifier.loadEncoder(store, c.readAll(), ckpt.toString());
                System.out.printf(Locale.ROOT, "fine-tuning %s (%s, step %d) on %s: %d train / %d test images, %d epochs of batch %d, lr %.3g%n",
                        scratch ? "a randomly initialised encoder" : ckpt.toString(), m.preset(), m.step(), device.name(), train.size(),
                        test.size(), o.epochs(), o.batchSize(), o.lr());
                System.out.printf(Locale.ROOT, "test accuracy before fine-tuning (random head): %.4f%n", Finetune.accuracy(model, store, test));
                Finetune.Result r = Finetune.run(model, store, train, test, o, System.out);
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

    private static LabeledImages head(LabeledImages set, int n) { return n >= set.size() ? set : set.head(n); }
}
