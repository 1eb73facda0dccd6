package org.d2v.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data.text.Tokenizers;
import org.d2v.demo.DemoPresets;
import org.d2v.optim.CosineSchedule;
import org.d2v.train.BatchSource;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointException;
import org.d2v.train.CheckpointManifest;
import org.d2v.train.ModelFactory;
import org.d2v.train.Pretrainer;
import org.d2v.train.TrainableModel;
import org.d2v.train.TrainingData;
import org.d2v.train.TrainingDivergedException;

/** {@code d2v pretrain}: data2vec 2.0 pretraining with checkpoints, metrics, a loss plot and exact resume. */
public final class PretrainCommand implements Command {
    static final String HELP = """
            usage: d2v pretrain --modality image|audio|text --run <dir> [options]
                   d2v pretrain --resume <dir> [options]

            Pretrains a data2vec 2.0 model (student, EMA teacher, multi-mask, conv decoder). The run folder
            receives checkpoint-<step>/ folders (tensors.safetensors + manifest.json, written atomically),
            a 'latest' pointer, metrics.jsonl, metrics.csv and loss.png. A progress line is printed every
            few seconds. A non-finite loss stops the run with an error naming the step.

            options:
              --modality image|audio|text  what to pretrain on (required for a new run).
              --preset micro|demo|tiny|base model size: 'tiny' keeps every mechanism but trains on a CPU in
                                           minutes (kernel backend); 'demo' is d2v demo's, smaller still and
                                           without dropout; 'base' is the paper's base configuration (spec
                                           §2-§8); 'micro' is the smallest, for quick checks on the pure-Java
                                           reference backend. Default: tiny.
              --data <path>|generated      what to train on, recognised from the path:
                                           - a data folder of 'd2v data install' (make data: build/data):
                                             Fashion-MNIST train, the speech clips, the text corpus
                                           - image: an IDX file (*-images-idx3-ubyte[.gz]), or a folder of
                                             PNG/JPEG/BMP/GIF at any size, grey or colour (recursive),
                                             resampled to the preset's size (random resized crop, flip,
                                             ImageNet normalisation)
                                           - audio: a fairseq manifest (.tsv: root folder, then
                                             path<TAB>num_samples), or a folder of 16 kHz mono WAVs;
                                             batched as fairseq (min/max_sample_size, max_tokens)
                                           - text: a folder of .txt files, or one file with one document
                                             per line (UTF-8)
                                           or 'generated' for synthetic signals of the right shape.
                                           Default: generated.
              --tokenizer <path>           text: a GPT-2/RoBERTa folder (vocab.json + merges.txt +
                                           fairseq's dict.txt) or a d2v BPE file; saved into the run
                                           folder. Default: the installed set's BPE, else a BPE of the
                                           preset's vocabulary size trained on the corpus.
              --backend auto|reference|opencl|cuda
                                           where to compute; 'auto' picks the fastest available (cuda, then
                                           opencl, then the pure-Java reference). Default: auto.
              --steps N                    train up to update N (counted from the start of the run, so a
                                           resume continues to N). Also the length of the cosine schedule.
                                           Default: 100 (a resume keeps the run's value).
              --batch B                    samples per update (each is cloned M times with its own mask).
                                           Default: the preset's batch size.
              --run <dir>                  the run folder of a new run; it must not hold checkpoints yet.
              --resume <dir>               continue the run in <dir> from its latest checkpoint: weights,
                                           optimizer moments, teacher, step, random stream and data position
                                           are restored, so the result equals an uninterrupted run. Options
                                           not given again are taken from the run's manifest.
              --seed S                     seed of the initialisation, the masks, dropout and the data order.
                                           Default: 1 (a resume keeps the run's seed).
              --checkpoint-every K         write a checkpoint every K updates (0: only at the end); there is
                                           always one after the last update. Default: 100.
              --lr X                       peak learning rate. Default: the preset's (tiny 1e-3; base: image
                                           1e-3, audio 7.5e-4, text 2e-4).
              --warmup W                   linear warm-up updates before the cosine decay to 0. Default: the
                                           preset's warm-up if it is shorter than --steps, else steps/10.
              --progress-seconds T         at most one progress line every T seconds. Default: 10.
              --help                       print this text.
            """;

    private static final Set<String> OPTIONS = Set.of("--modality", "--preset", "--data", "--backend", "--steps", "--batch",
            "--run", "--resume", "--seed", "--checkpoint-every", "--lr", "--warmup", "--progress-seconds", "--tokenizer");

    private final BiFunction<Data2VecConfig, Device, TrainableModel> models;

    public PretrainCommand() { this(ModelFactory::build); }

    /** With another model factory (tests train a small stand-in model through the whole command). */
    PretrainCommand(BiFunction<Data2VecConfig, Device, TrainableModel> models) { this.models = models; }

    @Override public String name() { return "pretrain"; }

    @Override public String summary() { return "pretrain a data2vec 2.0 model (checkpoints, metrics, loss plot, exact resume)"; }

    @Override
    public int run(String[] args) throws Exception {
        Map<String, String> opt;
        try {
            opt = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("d2v pretrain: " + e.getMessage() + "\n(see d2v pretrain --help)");
            return 2;
        }
        if (opt == null) {
            System.out.print(HELP);
            return 0;
        }
        try {
            return train(opt);
        } catch (IllegalArgumentException | CheckpointException e) {
            System.err.println("d2v pretrain: " + e.getMessage());
            return 2;
        } catch (TrainingDivergedException | UnsupportedOperationException | java.io.IOException | java.io.UncheckedIOException e) {
            System.err.println("d2v pretrain: " + e.getMessage());
            return 1;
        }
    }

    /** The options as given, or null for --help; rejects unknown options and missing values. */
    static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) return null;
            if (!OPTIONS.contains(a)) throw new IllegalArgumentException("unknown option '" + a + "'");
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            if (opt.put(a, args[++i]) != null) throw new IllegalArgumentException(a + " given twice");
        }
        return opt;
    }

    private int train(Map<String, String> given) throws Exception {
        Map<String, String> opt = new HashMap<>();
        Path runDir;
        boolean resume = given.containsKey("--resume");
        if (resume) {
            runDir = Path.of(given.get("--resume"));
            if (given.containsKey("--run") && !Path.of(given.get("--run")).equals(runDir)) {
                throw new IllegalArgumentException("--run and --resume name different folders");
            }
            CheckpointManifest saved = Checkpoint.load(Checkpoint.latest(runDir)).manifest();
            opt.putAll(saved.config()); // the run's own options, overridden below by what is given again
        } else {
            if (!given.containsKey("--run")) throw new IllegalArgumentException("--run <dir> is required for a new run (or --resume <dir>)");
            if (!given.containsKey("--modality")) throw new IllegalArgumentException("--modality image|audio|text is required for a new run");
            runDir = Path.of(given.get("--run"));
        }
        opt.putAll(given);
        opt.remove("--resume");
        opt.remove("--run");

        String modality = choice(opt, "--modality", null, "image", "audio", "text");
        String size = choice(opt, "--preset", "tiny", "micro", "demo", "tiny", "base");
        String backend = choice(opt, "--backend", "auto", "auto", "reference", "opencl", "cuda");
        long steps = positiveLong(opt, "--steps", 100);
        long seed = longValue(opt, "--seed", 1);
        long every = longValue(opt, "--checkpoint-every", 100);
        if (every < 0) throw new IllegalArgumentException("--checkpoint-every must be >= 0, got " + every);
        double progress = doubleValue(opt, "--progress-seconds", 10);
        String data = opt.getOrDefault("--data", TrainingData.GENERATED);

        Data2VecConfig config = DemoPresets.named(modality + "-" + size).withSeed(seed);
        if (opt.containsKey("--batch")) config = config.withBatchSize((int) positiveLong(opt, "--batch", 0));
        double lr = doubleValue(opt, "--lr", config.optim().lr());
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
        long presetWarmup = config.optim().warmup();
        long warmup = opt.containsKey("--warmup") ? longValue(opt, "--warmup", 0) : (presetWarmup < steps ? presetWarmup : steps / 10);
        if (warmup < 0 || warmup >= steps) throw new IllegalArgumentException("--warmup must be in [0, steps), got " + warmup);
        CosineSchedule schedule = new CosineSchedule(lr, warmup, steps, 0);

        if (!resume && Files.exists(runDir.resolve(Checkpoint.LATEST))) {
            throw new IllegalArgumentException(runDir + " already holds a run; continue it with --resume " + runDir + " or choose a new --run folder");
        }

        // A resumed text run reads its corpus with the tokenizer saved in the run (one trained on the corpus included).
        Path tokenizer = resume && Tokenizers.savedIn(runDir) != null ? Tokenizers.savedIn(runDir)
                : opt.containsKey("--tokenizer") ? Path.of(opt.get("--tokenizer")) : null;
        try (Device device = Backends.open(backend);
             BatchSource source = TrainingData.open(data, tokenizer, config, seed);
             TrainableModel model = models.apply(config, device)) {
            // The tokenizer is part of the model: probes and fine-tuning of this run must encode text the same way.
            Files.createDirectories(runDir);
            source.saveRunFiles(runDir);
            System.out.printf(Locale.ROOT, "pretraining %s on %s: %d steps, batch %d x %d clones, lr %.3g (warm-up %d), data: %s, run: %s%n",
                    config.name(), device.name(), steps, config.batchSize(), config.clones(), lr, warmup, source.describe(), runDir);
            Pretrainer.Builder b = Pretrainer.builder().model(model).source(source).runDir(runDir).steps(steps)
                    .schedule(schedule).seed(seed).checkpointEvery(every).resume(resume)
                    .progressEvery(Duration.ofMillis(Math.round(progress * 1000)))
                    .describe(config.name(), modality);
            for (String key : new String[] {"--modality", "--preset", "--data", "--backend", "--steps", "--batch", "--seed",
                    "--checkpoint-every", "--lr", "--warmup", "--progress-seconds", "--tokenizer"}) {
                if (opt.containsKey(key)) b.config(key, opt.get(key));
            }
            b.config("--modality", modality).config("--preset", size).config("--lr", Double.toString(lr))
                    .config("--warmup", Long.toString(warmup)).config("--batch", Integer.toString(config.batchSize()));
            Pretrainer.Result r = b.build().run();
            if (!r.metrics().isEmpty()) {
                System.out.printf(Locale.ROOT, "done: step %d, loss %.5g; checkpoint %s; metrics and %s in %s%n", r.step(),
                        r.metrics().get(r.metrics().size() - 1).loss(), r.checkpoint(), Pretrainer.PLOT, runDir);
                System.out.printf(Locale.ROOT, "data: %.2f s waiting for batches in all (what prefetching did not hide)%n", source.waitSeconds());
            }
        }
        return 0;
    }

    private static String choice(Map<String, String> opt, String key, String fallback, String... allowed) {
        String v = opt.getOrDefault(key, fallback);
        if (v == null) throw new IllegalArgumentException(key + " is required");
        for (String a : allowed) if (a.equals(v)) return v;
        throw new IllegalArgumentException(key + " must be one of " + String.join(", ", allowed) + "; got '" + v + "'");
    }

    private static long longValue(Map<String, String> opt, String key, long fallback) {
        String v = opt.get(key);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " needs an integer, got '" + v + "'");
        }
    }

    private static long positiveLong(Map<String, String> opt, String key, long fallback) {
        long v = longValue(opt, key, fallback);
        if (v < 1) throw new IllegalArgumentException(key + " must be >= 1, got " + v);
        return v;
    }

    private static double doubleValue(Map<String, String> opt, String key, double fallback) {
        String v = opt.get(key);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " needs a number, got '" + v + "'");
        }
    }
}
