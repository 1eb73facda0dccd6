package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.eval.LabeledSet;
import org.d2v.eval.LinearProbe;
import org.d2v.eval.ProbeTask;
import org.d2v.train.Checkpoint;
import org.d2v.train.RunFiles;

/**
 * Checks the probe itself on one model: the same frozen features sliced into their parts (final
 * output, encoder input, each block's FFN output, all of them), each probed with the demo's L2
 * grid and with a wider one, so that a probe choice that hides (or fakes) learning shows.
 *
 * <pre>
 * java -cp d2v.jar org.d2v.demo.ProbeVariants --run RUN [--random-init true] [--set k=v ...]   (the run's --set settings)
 * </pre>
 */
public final class ProbeVariants {
    static final double[] DEMO_GRID = {1e-4, 1e-3, 1e-2}, WIDE_GRID = {1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1};

    private ProbeVariants() {}

    public static void main(String[] argv) throws IOException {
        Map<String, String> opts = new HashMap<>();
        List<String> sets = new ArrayList<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (argv[i].equals("--set")) sets.add(argv[i + 1]);
            else opts.put(argv[i], argv[i + 1]);
        }
        Path run = Path.of(opts.get("--run"));
        Path data = Path.of(opts.getOrDefault("--data", "build/data"));
        Data2VecConfig cfg = DemoPresets.named(opts.getOrDefault("--preset", "text-demo"));
        for (String s : sets) cfg = Experiment.apply(cfg, s);
        boolean randomInit = Boolean.parseBoolean(opts.getOrDefault("--random-init", "false"));
        BpeTokenizer bpe = BpeTokenizer.load(run.resolve(RunFiles.TOKENIZER));
        List<String> domains = opts.containsKey("--domain") ? List.of(opts.get("--domain").split(",")) : List.of();
        List<ProbeTask> tasks = ProbeTasks.forModel(cfg, data, bpe, domains);
        try (Device device = Backends.open(opts.getOrDefault("--backend", "opencl")); Data2Vec model = new Data2Vec(device, cfg)) {
            String what = randomInit ? "random init" : run.toString();
            if (!randomInit) Checkpoint.load(Checkpoint.latest(run)).restore(model.state());
            int d = cfg.encoder().dim(), parts = model.layerFeatureDim() / d;
            Map<String, int[]> variants = new LinkedHashMap<>();
            variants.put("final", new int[] {0});
            variants.put("input", new int[] {1});
            for (int b = 0; b < cfg.encoder().depth(); b++) variants.put("ffn " + b, new int[] {2 + b});
            int[] all = new int[parts], noInput = new int[parts - 1];
            for (int p = 0; p < parts; p++) all[p] = p;
            for (int p = 0, k = 0; p < parts; p++) if (p != 1) noInput[k++] = p;
            variants.put("layers (demo)", all);
            variants.put("layers without input", noInput);
            for (ProbeTask t : tasks) {
                float[] tr = Features.pooled(new Data2VecFeatures(model, true), t.train()), te = Features.pooled(new Data2VecFeatures(model, true), t.test());
                for (Map.Entry<String, int[]> v : variants.entrySet()) {
                    float[] a = slice(tr, parts, d, v.getValue()), b = slice(te, parts, d, v.getValue());
                    int w = v.getValue().length * d;
                    System.out.printf(Locale.ROOT, "VARIANT %s | %s | %-22s | demo grid %s | wide grid %s%n", what, t.name(), v.getKey(),
                            probe(a, b, w, t, DEMO_GRID), probe(a, b, w, t, WIDE_GRID));
                }
            }
        }
    }

    private static String probe(float[] tr, float[] te, int dim, ProbeTask t, double[] grid) {
        LabeledSet train = t.train(), test = t.test();
        double l2 = Probe.chooseL2(tr, train.labels(), dim, train.classes(), grid);
        LinearProbe.Model m = LinearProbe.builder().l2(l2).build().fit(tr, train.labels(), dim, train.classes());
        return String.format(Locale.ROOT, "%.4f (L2 %.0e)", LinearProbe.accuracy(m.predict(te), test.labels()), l2);
    }

    private static float[] slice(float[] x, int parts, int d, int[] keep) {
        int n = x.length / (parts * d), w = keep.length * d;
        float[] out = new float[n * w];
        for (int i = 0; i < n; i++) for (int k = 0; k < keep.length; k++) System.arraycopy(x, (i * parts + keep[k]) * d, out, i * w + k * d, d);
        return out;
    }
}
