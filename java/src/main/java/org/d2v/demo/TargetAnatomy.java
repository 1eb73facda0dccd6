package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.diagnostics.PositionShare;
import org.d2v.train.BatchSource;
import org.d2v.train.Checkpoint;

/**
 * What the targets of a model are made of, on pretraining batches: the share of their spread
 * that position alone explains ({@link PositionShare}), next to what chance gives, and how well
 * the decoder predicts them at masked positions (R²). For a run's checkpoint or a model at init.
 *
 * <pre>
 * java -cp d2v.jar org.d2v.demo.TargetAnatomy [--run RUN] [--set k=v ...] [--batches 4]
 * </pre>
 */
public final class TargetAnatomy {
    private TargetAnatomy() {}

    public static void main(String[] argv) throws IOException {
        Map<String, String> opts = new HashMap<>();
        List<String> sets = new ArrayList<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (argv[i].equals("--set")) sets.add(argv[i + 1]);
            else opts.put(argv[i], argv[i + 1]);
        }
        Data2VecConfig cfg = DemoPresets.named(opts.getOrDefault("--preset", "text-demo"));
        for (String s : sets) cfg = Experiment.apply(cfg, s);
        cfg = cfg.withBatchSize(64);
        DemoData demo = Experiment.text(Path.of(opts.getOrDefault("--data", "build/data")), cfg, "general", 1);
        int batches = Integer.parseInt(opts.getOrDefault("--batches", "4"));
        try (Device device = Backends.open(opts.getOrDefault("--backend", "opencl")); Data2Vec model = new Data2Vec(device, cfg);
             BatchSource source = demo.pretraining().open(cfg, 99)) {
            String what = "init";
            if (opts.containsKey("--run")) {
                Checkpoint c = Checkpoint.load(Checkpoint.latest(Path.of(opts.get("--run"))));
                c.restore(model.state());
                what = opts.get("--run") + " step " + c.manifest().step();
            }
            RandomStream rng = new RandomStream(5);
            double share = 0, sse = 0, sst = 0;
            int b = 0, t = 0;
            for (int k = 0; k < batches; k++) {
                Batch batch = source.next();
                b = batch.size();
                t = model.tokens(batch);
                MaskBatch masks = model.masker().sample(b * cfg.clones(), t, rng);
                Data2Vec.Reconstruction r = model.reconstruct(batch, masks, new RandomStream(6));
                int w = r.width();
                share += PositionShare.of(r.target(), b, t, w) / batches;
                double[] mean = new double[w];
                for (int i = 0; i < b * t; i++) for (int c = 0; c < w; c++) mean[c] += r.target()[i * w + c] / (b * t);
                for (int row = 0; row < r.rows(); row++) {
                    for (int p = 0; p < t; p++) {
                        if (r.mask()[row * t + p] == 0) continue;
                        int s = row / cfg.clones();
                        for (int c = 0; c < w; c++) {
                            double y = r.target()[(s * t + p) * w + c], e = r.prediction()[(row * t + p) * w + c] - y;
                            sse += e * e;
                            sst += (y - mean[c]) * (y - mean[c]);
                        }
                    }
                }
            }
            System.out.printf(Locale.ROOT, "ANATOMY %s | position share of target variance %.4f (chance %.4f) | pred R2 at masked positions %.3f%n",
                    what, share, PositionShare.chance(b, t), 1 - sse / sst);
        }
    }
}
