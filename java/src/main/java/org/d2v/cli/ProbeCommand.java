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
import org.d2v.demo.Data2VecFeatures;
import org.d2v.demo.FashionData;
import org.d2v.demo.FeatureModel;
import org.d2v.demo.Probe;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointException;
import org.d2v.train.CheckpointManifest;

/** {@code d2v probe}: the linear probe of a pretrained image run's checkpoint, next to raw pixels. */
public final class ProbeCommand implements Command {
    static final String HELP = """
            usage: d2v probe --run <dir> [options]

            Loads the latest checkpoint of an image run (of 'd2v demo' or 'd2v pretrain --modality image'),
            extracts frozen encoder features (student encoder, no masking; see --features) of Fashion-MNIST images in batches, fits the linear probe (L-BFGS logistic regression on
            standardised features) on training images and reports its accuracy on the official test set,
            next to the same probe on raw pixels.
            Audio and text runs are not probed yet (the command says so).

            options (defaults in brackets):
              --run DIR            the run folder (it holds 'latest' and checkpoint-<step>/)    [required]
              --checkpoint NAME    a checkpoint folder of the run instead of the latest, e.g. checkpoint-200
              --data DIR           data folder of 'd2v data install'   [build/data, or $D2V_DATA]
              --backend NAME       reference | opencl | cuda | auto (auto: highest priority available) [auto]
              --probe-train N      training images for the probe (the first N of 60k)          [10000]
              --probe-test N       test images (the first N of the official 10k)               [10000]
              --features F         layers (final output mean-pooled, CLS token and each main block's
                                   mean-pooled FFN output, concatenated) or final (final output only)  [layers]
              --help               print this text
            """;

    private static final Set<String> OPTIONS = Set.of("--run", "--checkpoint", "--data", "--backend", "--probe-train", "--probe-test",
            "--features");

    @Override public String name() { return "probe"; }

    @Override public String summary() { return "linear probe of a pretrained image run on Fashion-MNIST (vs raw pixels)"; }

    @Override
    public int run(String[] argv) throws Exception {
        try {
            Args a = Args.parse(argv, OPTIONS, Set.of());
            if (a == null) {
                System.out.print(HELP);
                return 0;
            }
            ImageRun run = ImageRun.open(a, "probe", "probed");
            if (run == null) return 1;
            Path ckpt = run.path();
            Checkpoint c = run.checkpoint();
            CheckpointManifest m = run.manifest();
            Data2VecConfig cfg = run.config();
            FashionData data = FashionData.load(Path.of(a.string("--data", DataDir.root().toString())));
            LabeledImages train = head(data.train(), a.positiveInt("--probe-train", 10_000));
            LabeledImages test = head(data.test(), a.positiveInt("--probe-test", 10_000));
            try (Device device = Backends.open(a.string("--backend", "auto")); FeatureModel model = Data2VecFeatures.factory(DemoCommand.layerFeatures(a)).apply(cfg, device)) {
                c.restore(model.state());
                System.out.printf(Locale.ROOT, "probing %s (step %d of %s) on %s: %d train / %d test images%n", ckpt, m.step(), m.preset(),
                        device.name(), train.size(), test.size());
                Probe.Outcome p = Probe.encoder("pretrained", model, train, test);
                Probe.Outcome raw = Probe.rawPixels(train, test);
                for (Probe.Outcome o : new Probe.Outcome[] {p, raw}) {
                    System.out.printf(Locale.ROOT, "  %-11s test %.4f  train %.4f  (%.0f s)%n", o.what(), o.testAccuracy(), o.trainAccuracy(), o.seconds());
                }
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

    private static LabeledImages head(LabeledImages set, int n) { return n >= set.size() ? set : set.head(n); }
}
