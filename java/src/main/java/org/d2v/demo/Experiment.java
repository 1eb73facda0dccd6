package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Document;
import org.d2v.data.text.Sentence;
import org.d2v.data.text.TextSets;
import org.d2v.data.text.TokenBlocks;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.DecoderConfig;
import org.d2v.data2vec.config.EmaConfig;
import org.d2v.data2vec.config.EncoderConfig;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.data2vec.config.MaskConfig;
import org.d2v.data2vec.config.OptimConfig;
import org.d2v.eval.ProbeTask;
import org.d2v.train.RunFiles;
import org.d2v.train.TrainingData;

/**
 * One arm of a pretraining experiment: a demo run ({@link DemoRun}) with a fixed number of
 * updates and one or more settings of the preset changed, so that arms differ in exactly what
 * their command lines say (docs/results/text-experiments.md).
 *
 * <pre>
 * java -cp d2v.jar org.d2v.demo.Experiment --modality text --steps 1500 --run runs/x --set lr=2e-4 --set warmup=150
 *     [--corpus general|in-domain:DOMAIN] [--repeat R] [--features layers|final] [--probe-points K] [--backend opencl]
 *     [--zero-positions true]   (text: the position table starts at zero instead of N(0, 0.02²))
 *     [--freeze-positions true] (text: the position table is held at its initial values)
 * </pre>
 *
 * Settings: lr, warmup, wd, clip, ema=T0:TE, mask (R), batch, clones, topk, dim, heads, depth, mlp,
 * dec-layers, dec-kernel, dec-dim, dec-proj (1|2), in-layers (true|false: instance norm of the target layers),
 * teacher-input (student|tokens|ema: what the text teacher reads, {@link org.d2v.data2vec.config.ModalityConfig.TeacherInput}),
 * positions (N: rows of the text position table), position-offsets (true|false: in training each block
 * starts at a random row of the table, wrapping around).
 * {@code --corpus in-domain:D} adds the sentiment sentences of the two domains other than D, without
 * their labels, {@code --repeat} times to the pretraining corpus and probes only held-out D (the
 * other domains' test sentences would be in the corpus).
 */
public final class Experiment {
    private Experiment() {}

    public static void main(String[] argv) throws IOException {
        Map<String, String> opts = new HashMap<>();
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < argv.length; i += 2) {
            if (i + 1 >= argv.length) throw new IllegalArgumentException(argv[i] + " needs a value");
            if (argv[i].equals("--set")) sets.add(argv[i + 1]);
            else opts.put(argv[i], argv[i + 1]);
        }
        String modality = opts.getOrDefault("--modality", "text");
        Data2VecConfig cfg = DemoPresets.named(opts.getOrDefault("--preset", modality + "-demo"));
        for (String s : sets) cfg = apply(cfg, s);
        long steps = Long.parseLong(opts.getOrDefault("--steps", "1000"));
        Path data = Path.of(opts.getOrDefault("--data", "build/data"));
        Path run = Path.of(opts.getOrDefault("--run", "runs/experiment"));
        boolean layers = !"final".equals(opts.getOrDefault("--features", "layers"));
        DemoData demo = switch (modality) {
            case "text" -> text(data, cfg, opts.getOrDefault("--corpus", "general"), Integer.parseInt(opts.getOrDefault("--repeat", "1")));
            case "audio" -> DemoData.speech(data);
            default -> DemoData.fashion(FashionData.load(data), true);
        };
        DemoRun.Options o = new DemoRun.Options(run, cfg, List.of(opts.getOrDefault("--backend", "opencl")), 60, 2,
                Integer.parseInt(opts.getOrDefault("--probe-points", "4")), 10_000, 10_000, Integer.parseInt(opts.getOrDefault("--quick-train", "1000")),
                Integer.parseInt(opts.getOrDefault("--quick-test", "500")), Long.parseLong(opts.getOrDefault("--seed", "1")), 6, steps);
        System.out.println("experiment: " + String.join(" ", argv));
        System.out.println("model: " + DemoRun.summary(cfg));
        boolean zeroPositions = Boolean.parseBoolean(opts.getOrDefault("--zero-positions", "false"));
        boolean freezePositions = Boolean.parseBoolean(opts.getOrDefault("--freeze-positions", "false"));
        java.util.function.BiFunction<Data2VecConfig, org.d2v.backend.Device, FeatureModel> models = (c, device) -> {
            org.d2v.data2vec.Data2Vec m = new org.d2v.data2vec.Data2Vec(device, c);
            if (zeroPositions) zeroPositions(m);
            return freezePositions ? new FrozenPositions(m, layers) : new Data2VecFeatures(m, layers);
        };
        DemoResult r = new DemoRun(o, models, System.out).run(demo);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "RESULT steps=%d seconds=%.0f loss=%.3f->%.3f", r.steps(), r.pretrainSeconds(),
                r.lossStart(), r.lossEnd()));
        for (DemoResult.TaskResult t : r.tasks()) {
            line.append(String.format(Locale.ROOT, " | %s: %.4f / %.4f / %.4f", t.task(), t.pretrained().testAccuracy(), t.randomInit().testAccuracy(),
                    t.raw().testAccuracy()));
        }
        System.out.println(line);
    }

    /**
     * Starts the text position table at zero (student and, through the copy, nothing else: the
     * teacher reads the student's local features). An initialisation change only: the table still trains.
     */
    static void zeroPositions(org.d2v.data2vec.Data2Vec m) {
        org.d2v.tensor.Tensor t = m.parameters().get("embed_positions.weight");
        t.copyFrom(new double[(int) t.numel()]);
    }

    /**
     * The text model with its position table held at its initial values: after every update the
     * table is written back (an experiment's intervention from outside the training step, to test
     * whether the targets turn positional through the table's growth).
     */
    static final class FrozenPositions implements FeatureModel {
        private final Data2VecFeatures inner;
        private final org.d2v.tensor.Tensor table;
        private final double[] initial;

        FrozenPositions(org.d2v.data2vec.Data2Vec m, boolean layers) {
            inner = new Data2VecFeatures(m, layers);
            table = m.parameters().get("embed_positions.weight");
            initial = table.toDoubles();
        }

        @Override public org.d2v.backend.Device device() { return inner.device(); }

        @Override
        public org.d2v.train.StepStats trainStep(org.d2v.train.BatchShare share, long step, double lr, org.d2v.backend.RandomStream rng,
                                                 org.d2v.dist.DataParallel dp) {
            org.d2v.train.StepStats s = inner.trainStep(share, step, lr, rng, dp);
            table.copyFrom(initial);
            return s;
        }

        @Override public Map<String, org.d2v.tensor.Tensor> state() { return inner.state(); }

        @Override public double[] pooledFeatures(org.d2v.data2vec.Batch batch) { return inner.pooledFeatures(batch); }

        @Override public int featureDim() { return inner.featureDim(); }

        @Override public org.d2v.data2vec.mask.Masker masker() { return inner.masker(); }

        @Override
        public org.d2v.data2vec.Data2Vec.Reconstruction reconstruct(org.d2v.data2vec.Batch b, org.d2v.data2vec.mask.MaskBatch m, org.d2v.backend.RandomStream r) {
            return inner.reconstruct(b, m, r);
        }

        @Override public org.d2v.data2vec.Data2Vec data2vec() { return inner.model(); }

        @Override public void close() { inner.close(); }
    }

    /** The preset with one "key=value" setting changed. */
    static Data2VecConfig apply(Data2VecConfig c, String setting) {
        int eq = setting.indexOf('=');
        if (eq < 1) throw new IllegalArgumentException("--set needs key=value, got '" + setting + "'");
        String k = setting.substring(0, eq), v = setting.substring(eq + 1);
        OptimConfig o = c.optim();
        EncoderConfig e = c.encoder();
        DecoderConfig d = c.decoder();
        LossConfig l = c.loss();
        return switch (k) {
            case "lr" -> c.withOptim(new OptimConfig(Double.parseDouble(v), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.warmup(), o.maxUpdate(), o.clipNorm(), o.exemptFromDecay()));
            case "warmup" -> c.withOptim(new OptimConfig(o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), Long.parseLong(v), o.maxUpdate(), o.clipNorm(), o.exemptFromDecay()));
            case "wd" -> c.withOptim(new OptimConfig(o.lr(), o.beta1(), o.beta2(), o.eps(), Double.parseDouble(v), o.warmup(), o.maxUpdate(), o.clipNorm(), o.exemptFromDecay()));
            case "clip" -> c.withOptim(new OptimConfig(o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.warmup(), o.maxUpdate(), Double.parseDouble(v), o.exemptFromDecay()));
            case "ema" -> {
                String[] t = v.split(":");
                yield c.withEma(new EmaConfig(Double.parseDouble(t[0]), Double.parseDouble(t[1]), c.ema().annealSteps()));
            }
            case "mask" -> c.withMask(new MaskConfig(Double.parseDouble(v), c.mask().adjust(), c.mask().length(), c.mask().inverse()));
            case "batch" -> c.withBatchSize(Integer.parseInt(v));
            case "clones" -> c.withClones(Integer.parseInt(v));
            case "topk" -> c.withLoss(new LossConfig(Integer.parseInt(v), l.instanceNormLayers(), l.layerNormTargets(), l.scale(), l.clsWeight(), l.minTargetStd(), l.minPredStd(), l.guardAfterStep(), l.target()));
            case "in-layers" -> c.withLoss(new LossConfig(l.topK(), Boolean.parseBoolean(v), l.layerNormTargets(), l.scale(), l.clsWeight(), l.minTargetStd(), l.minPredStd(), l.guardAfterStep(), l.target()));
            case "dim" -> c.withEncoder(new EncoderConfig(Integer.parseInt(v), e.heads(), e.depth(), e.prenetDepth(), e.mlpRatio(), e.normEps(), e.attentionDropout(), e.encoderDropout(), e.activationDropout(), e.postMlpDropout(), e.prenetDropout(), e.layerdrop()));
            case "heads" -> c.withEncoder(new EncoderConfig(e.dim(), Integer.parseInt(v), e.depth(), e.prenetDepth(), e.mlpRatio(), e.normEps(), e.attentionDropout(), e.encoderDropout(), e.activationDropout(), e.postMlpDropout(), e.prenetDropout(), e.layerdrop()));
            case "depth" -> c.withEncoder(new EncoderConfig(e.dim(), e.heads(), Integer.parseInt(v), e.prenetDepth(), e.mlpRatio(), e.normEps(), e.attentionDropout(), e.encoderDropout(), e.activationDropout(), e.postMlpDropout(), e.prenetDropout(), e.layerdrop()));
            case "dec-layers" -> decoder(c, new DecoderConfig(d.dim(), d.kernel(), Integer.parseInt(v), d.groups(), d.residual(), d.inputDropout(), d.projectionLayers(), d.projectionRatio()));
            case "dec-kernel" -> decoder(c, new DecoderConfig(d.dim(), Integer.parseInt(v), d.layers(), d.groups(), d.residual(), d.inputDropout(), d.projectionLayers(), d.projectionRatio()));
            case "teacher-input" -> {
                if (!(c.modality() instanceof org.d2v.data2vec.config.ModalityConfig.Text t)) throw new IllegalArgumentException("teacher-input is a text setting, not " + c.name() + "'s");
                yield c.withModality(t.withTeacherInput(org.d2v.data2vec.config.ModalityConfig.TeacherInput.parse(v)));
            }
            case "positions" -> c.withModality(text(c, "positions").withMaxPositions(Integer.parseInt(v)));
            case "position-offsets" -> c.withModality(text(c, "position-offsets").withPositionOffsets(Boolean.parseBoolean(v)));
            case "dec-dim" -> decoder(c, new DecoderConfig(Integer.parseInt(v), d.kernel(), d.layers(), d.groups(), d.residual(), d.inputDropout(), d.projectionLayers(), d.projectionRatio()));
            default -> throw new IllegalArgumentException("unknown setting '" + k + "'");
        };
    }

    private static org.d2v.data2vec.config.ModalityConfig.Text text(Data2VecConfig c, String key) {
        if (!(c.modality() instanceof org.d2v.data2vec.config.ModalityConfig.Text t)) throw new IllegalArgumentException(key + " is a text setting, not " + c.name() + "'s");
        return t;
    }

    private static Data2VecConfig decoder(Data2VecConfig c, DecoderConfig d) {
        return new Data2VecConfig(c.name(), c.modality(), c.encoder(), c.mask(), d, c.ema(), c.loss(), c.optim(), c.clones(), c.batchSize(), c.seed());
    }

    /** Text pretraining data: the general corpus, or it plus the unlabeled sentences of the domains other than the held-out one. */
    static DemoData text(Path dataRoot, Data2VecConfig cfg, String corpus, int repeat) throws IOException {
        if (corpus.equals("general")) return DemoData.text(dataRoot, cfg);
        if (!corpus.startsWith("in-domain:")) throw new IllegalArgumentException("--corpus must be general or in-domain:DOMAIN, got " + corpus);
        String held = corpus.substring("in-domain:".length());
        var m = (org.d2v.data2vec.config.ModalityConfig.Text) cfg.modality();
        BpeTokenizer bpe = TextSets.tokenizer(dataRoot);
        List<String> docs = new ArrayList<>(TextSets.pretrainCorpus(dataRoot).stream().map(Document::text).toList());
        List<Sentence> all = TextSets.sentiment(dataRoot);
        List<String> unlabeled = TextSets.leaveDomainOut(all, held).train().stream().map(Sentence::text).toList();
        for (int r = 0; r < repeat; r++) docs.addAll(unlabeled);
        List<int[]> blocks = TokenBlocks.of(bpe, docs, m.length());
        List<ProbeTask> tasks = ProbeTasks.forModel(cfg, dataRoot, bpe, List.of(held));
        return new DemoData("text (general corpus + " + repeat + " x " + unlabeled.size() + " unlabeled sentences of the domains other than " + held + ")",
                (c, seed) -> TrainingData.blocks(blocks, (org.d2v.data2vec.config.ModalityConfig.Text) c.modality(), c.batchSize(), seed),
                tasks, null, Map.of(RunFiles.TOKENIZER, TextSets.tokenizerFile(dataRoot)));
    }
}
