package org.d2v.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.DemoPresets;
import org.d2v.dist.Communicator;
import org.d2v.dist.Communicators;
import org.d2v.dist.DataParallel;
import org.d2v.dist.DistOptions;
import org.d2v.dist.Launch;
import org.d2v.interop.EncoderWeights;
import org.d2v.optim.CosineSchedule;
import org.d2v.train.BatchSource;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointException;
import org.d2v.train.MemoryEstimate;
import org.d2v.train.ModelFactory;
import org.d2v.train.Pretrainer;
import org.d2v.train.ResumeCheck;
import org.d2v.train.RunStoppedException;
import org.d2v.train.Sharding;
import org.d2v.train.TrainableModel;
import org.d2v.train.TrainingData;
import org.d2v.train.WriteFailure;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/** {@code d2v pretrain}: data2vec 2.0 pretraining with checkpoints, metrics, a loss plot and exact resume. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        customSynopsis = {"d2v pretrain --modality image|audio|text --run DIR [options]", "d2v pretrain --resume DIR [options]"},
        description = {"Pretrain a data2vec 2.0 model (checkpoints, metrics, loss plot, exact resume).", "",
                "Pretrains a data2vec 2.0 model (student, EMA teacher, multi-mask, conv decoder). The run folder receives "
                        + "checkpoint-<step>/ folders (tensors.safetensors + manifest.json, written atomically), a 'latest' pointer, "
                        + "metrics.jsonl, metrics.csv and loss.png. A progress line is printed every few seconds. A memory estimate is "
                        + "printed before the first step (a batch that cannot fit is refused). A non-finite loss, gradient norm or weight "
                        + "stops the run naming the step, the first op whose output was not finite (the step replayed in checking mode) "
                        + "and the last good checkpoint. Ctrl-C (SIGINT) or SIGTERM finishes the step, writes a checkpoint and exits "
                        + "130/143; a second one exits at once.", "", "Options:"})
public final class PretrainCommand extends CliCommand {
    enum Modality { image, audio, text }

    enum Size { micro, demo, tiny, base }

    @Option(names = "--modality", paramLabel = "image|audio|text", description = "what to pretrain on (required for a new run).")
    Modality modality;

    @Option(names = "--preset", paramLabel = "micro|demo|tiny|base",
            description = "model size: 'tiny' keeps every mechanism but trains on a CPU in minutes (kernel backend); 'demo' is d2v demo's, "
                    + "smaller still and without dropout; 'base' is the paper's base configuration (docs/algorithm.md §2-§8); 'micro' is "
                    + "the smallest, for quick checks on the pure-Java reference backend. Default: tiny.")
    Size preset;

    @Option(names = "--data", paramLabel = "PATH|generated",
            description = {"what to train on, recognised from the path:",
                    "- a data folder of 'd2v data install' (make data: build/data): Fashion-MNIST train, the speech clips, the text corpus;",
                    "- image: an IDX file (*-images-idx3-ubyte[.gz]), or a folder of PNG/JPEG/BMP/GIF at any size, grey or colour "
                            + "(recursive), resampled to the preset's size (random resized crop, flip, ImageNet normalisation);",
                    "- audio: a fairseq manifest (.tsv: root folder, then path<TAB>num_samples), or a folder of 16 kHz mono WAVs; "
                            + "batched as fairseq (min/max_sample_size, max_tokens);",
                    "- text: a folder of .txt files, or one file with one document per line (UTF-8);",
                    "or 'generated' for synthetic signals of the right shape. Default: generated."})
    String data;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "text: a GPT-2/RoBERTa folder (vocab.json + merges.txt + fairseq's dict.txt) or a d2v BPE file; saved into "
                    + "the run folder. Default: the installed set's BPE, else a BPE of the preset's vocabulary size trained on the corpus.")
    Path tokenizer;

    @Option(names = "--backend", paramLabel = "auto|reference|opencl|cuda",
            description = "where to compute; 'auto' picks the fastest available (cuda, then opencl, then the pure-Java reference). Default: auto.")
    String backend;

    @Option(names = "--precision", paramLabel = "fp32|bf16|auto",
            description = "how activations are stored (docs/precision.md): fp32, or bf16 with fp32 master weights, optimizer state, "
                    + "statistics and loss; 'auto' is bf16 on a GPU and, on a CPU OpenCL device, whichever measured faster there. "
                    + "Checkpoints hold fp32 masters either way, so a resume may switch. Default: auto (a resume keeps the run's value).")
    String precision;

    @Option(names = "--steps", paramLabel = "N",
            description = "train up to update N (counted from the start of the run, so a resume continues to N). Also the length of the "
                    + "cosine schedule. Default: 100 (a resume keeps the run's value).")
    Long steps;

    @Option(names = "--batch", paramLabel = "B",
            description = "samples per update over all ranks and micro-batches, the global batch (each sample is cloned M times with "
                    + "its own mask; audio: clips of the longest length, max_tokens = B x max_sample_size). Default: the preset's "
                    + "(base: fairseq's global batch, image 256, audio 24, text 64; the smaller presets one device batch).")
    Integer batch;

    @Option(names = "--update-freq", paramLabel = "N",
            description = "micro-batches per update on each rank (fairseq's update_freq): gradients are accumulated over them and the "
                    + "loss is normalised over the whole global batch, so the update is the same for any split. Default: as many as keep "
                    + "each micro-batch within the preset's per-device batch (base: image 16, audio 3, text 4).")
    Integer updateFreq;

    @Option(names = "--stop-at", paramLabel = "N",
            description = "end this session after update N with a checkpoint; the schedule still runs to --steps and --resume continues "
                    + "(for jobs cut into time-limited pieces). Default: train to --steps.")
    Long stopAt;

    @Option(names = "--check-replicas", paramLabel = "K",
            description = "under mpirun/srun: every K updates verify that every rank holds bit-identical parameters, teacher and "
                    + "optimizer moments (downloads the whole state: a debug option). Default: 0, never.")
    Integer checkReplicas;

    @Option(names = "--run", paramLabel = "DIR", description = "the run folder of a new run; it must not hold checkpoints yet.")
    Path run;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue the run in DIR from its latest checkpoint: weights, optimizer moments, teacher, step, random stream and "
                    + "data position are restored, so the result equals an uninterrupted run. Options not given again are taken from the "
                    + "run's manifest; --modality, --preset, --data, --batch, --seed and the tokenizer cannot change (--lr, --warmup and "
                    + "--steps can). Without 'latest' the newest complete checkpoint is used. Everything is validated before the folder changes.")
    Path resume;

    @Option(names = "--init", paramLabel = "FILE",
            description = "a new run starts from this encoder weights file (of 'd2v export' or tools/fairseq_to_safetensors.py; "
                    + "fairseq or d2v names) instead of a random encoder: student and teacher encoder get its tensors, the decoder is "
                    + "initialised from --seed.")
    Path init;

    @Option(names = "--seed", paramLabel = "S",
            description = "seed of the initialisation, the masks, dropout and the data order. Default: 1 (a resume keeps the run's seed).")
    Long seed;

    @Option(names = "--checkpoint-every", paramLabel = "K",
            description = "write a checkpoint every K updates (0: only at the end); there is always one after the last update. Default: 100.")
    Long checkpointEvery;

    @Option(names = "--keep-last", paramLabel = "N",
            description = "after each checkpoint, delete all but the N newest complete ones (never the one 'latest' names). Default: 0, "
                    + "keep every checkpoint.")
    Integer keepLast;

    @Option(names = "--lr", paramLabel = "X",
            description = "peak learning rate. Default: the preset's (tiny 1e-3; base: image 1e-3, audio 7.5e-4, text 2e-4).")
    Double lr;

    @Option(names = "--warmup", paramLabel = "W",
            description = "linear warm-up updates before the cosine decay to 0. Default: the preset's warm-up if it is shorter than --steps, "
                    + "else steps/10.")
    Long warmup;

    @Option(names = "--progress-seconds", paramLabel = "T", description = "at most one progress line every T seconds. Default: 10.")
    Double progressSeconds;

    /** Options that describe the run itself, not where it lives: recorded in each manifest, taken back on resume. */
    private static final List<String> RECORDED = List.of("--modality", "--preset", "--data", "--backend", "--precision", "--steps", "--batch", "--seed",
            "--checkpoint-every", "--keep-last", "--lr", "--warmup", "--progress-seconds", "--tokenizer");

    private final ModelFactory.Maker models;

    public PretrainCommand() { this((ModelFactory.Maker) ModelFactory::build); }

    /** With another model factory (tests train a small stand-in model through the whole command). */
    PretrainCommand(BiFunction<Data2VecConfig, Device, TrainableModel> models) { this((c, d, p) -> models.apply(c, d)); }

    private PretrainCommand(ModelFactory.Maker models) { this.models = models; }

    @Override
    public Integer call() throws Exception {
        Map<String, String> given = given(spec.commandLine().getParseResult());
        if (resume == null) return train(this, run, null, given);
        if (init != null) throw new IllegalArgumentException("--init: only for a new run (a resume continues from its checkpoint)");
        if (run != null && !run.equals(resume)) throw new IllegalArgumentException("--run: names another folder than --resume");
        // Everything a resume reads is validated before the run folder changes: first the checkpoint.
        Checkpoint c = ResumeCheck.checkpoint(resume, System.out);
        Path manifest = c.dir().resolve(Checkpoint.MANIFEST);
        ResumeOptions.refuseChanges(given, c.manifest().config(), manifest);
        // The run's recorded options, then what is given again (which wins: --steps, --backend, ...).
        Map<String, String> merged = new LinkedHashMap<>();
        for (String k : RECORDED) if (c.manifest().config().containsKey(k)) merged.put(k, c.manifest().config().get(k));
        merged.putAll(given);
        List<String> args = new ArrayList<>();
        merged.forEach((k, v) -> { args.add(k); args.add(v); });
        PretrainCommand resumed = new PretrainCommand(models);
        try {
            Cli.configure(new CommandLine(resumed)).parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new CheckpointException(manifest, "recorded option " + Cli.describe(e));
        }
        // Options of this session only (how the work is cut and when it stops), never recorded: as given now.
        resumed.updateFreq = updateFreq;
        resumed.stopAt = stopAt;
        resumed.checkReplicas = checkReplicas;
        ResumeOptions.noteScheduleChanges(given, c.manifest().config(), System.out);
        // The run's own tokenizer reads its data; one given again must be the same (a recorded path is not compared: the run's copy rules).
        Path givenTokenizer = given.containsKey("--tokenizer") ? Path.of(given.get("--tokenizer")) : null;
        resumed.tokenizer = RunTokenizer.forResume(resume, c.manifest().modality(), merged.getOrDefault("--data", TrainingData.GENERATED), givenTokenizer);
        return train(resumed, resume, c, merged);
    }

    /** The options the user typed (long name → value as typed), in order. */
    private static Map<String, String> given(CommandLine.ParseResult parsed) {
        Map<String, String> out = new LinkedHashMap<>();
        for (OptionSpec o : parsed.matchedOptions()) {
            if (RECORDED.contains(o.longestName())) out.put(o.longestName(), String.join(",", o.originalStringValues()));
        }
        return out;
    }

    /** A new run ({@code resumeFrom} null) or a resume from that validated checkpoint. */
    private int train(PretrainCommand o, Path runDir, Checkpoint resumeFrom, Map<String, String> recorded) throws Exception {
        boolean resume = resumeFrom != null;
        Launch launch = Launch.detect(System.getenv());
        DistOptions dist = DistOptions.fromEnvironment(System.getenv());
        if (runDir == null) throw new IllegalArgumentException("--run: required for a new run (or --resume DIR)");
        if (o.modality == null) throw new IllegalArgumentException("--modality: required for a new run (image, audio or text)");
        String mod = o.modality.name(), size = (o.preset == null ? Size.tiny : o.preset).name();
        String backendName = Options.backend("--backend", o.backend);
        long steps = Options.atLeast("--steps", o.steps, 100, 1);
        long seed = o.seed == null ? 1 : o.seed;
        long every = Options.atLeast("--checkpoint-every", o.checkpointEvery, 100, 0);
        int keepLast = Options.atLeast("--keep-last", o.keepLast, 0, 0);
        double progress = Options.positive("--progress-seconds", o.progressSeconds, 10);
        String data = o.data == null ? TrainingData.GENERATED : o.data;

        Data2VecConfig config = DemoPresets.named(mod + "-" + size).withSeed(seed);
        if (o.batch != null) config = config.withBatchSize(Options.atLeast("--batch", o.batch, 0, 1));
        Sharding sharding = split(config, launch.rank(), launch.size(), o.updateFreq);
        long stopAt = Options.atLeast("--stop-at", o.stopAt, 0, 0);
        int checkReplicas = Options.atLeast("--check-replicas", o.checkReplicas, 0, 0);
        double lr = Options.positive("--lr", o.lr, config.optim().lr());
        long presetWarmup = config.optim().warmup();
        long warmup = o.warmup != null ? o.warmup : (presetWarmup < steps ? presetWarmup : steps / 10);
        if (warmup < 0 || warmup >= steps) throw new IllegalArgumentException("--warmup: must be in [0, steps), got " + warmup);
        CosineSchedule schedule = new CosineSchedule(lr, warmup, steps, 0);

        // Every rank validates before anything is written; rank 0 writes only after the communicator's
        // opening vote, so no rank can see its files as a folder "in use".
        ResumeCheck.Point point = null;
        Path tokenizer = o.tokenizer;
        if (resume) {
            point = ResumeCheck.validate(resumeFrom, runDir, mod, config.name());
        } else {
            String used = ResumeCheck.inUse(runDir);
            if (used != null) {
                throw new IllegalArgumentException("--run: " + runDir + " " + used + (used.startsWith("is a file") || used.startsWith("cannot") ? ""
                        : used.startsWith("already holds") ? "; continue it with --resume " + runDir + " or choose a new folder"
                        : "; nothing there can be resumed: choose a new folder (or delete this one)"));
            }
        }
        Data2VecConfig cfg = config;
        String precisionName = o.precision == null ? "auto" : o.precision;
        ResumeCheck.Point resumePoint = point;
        // One process per device: the device is opened first (CUDA picks the GPU from the local rank, docs/distributed.md).
        try (Device device = Backends.open(backendName)) {
            Precision precision = Precision.resolve(precisionName, device, "--precision:");
            BiFunction<Data2VecConfig, Device, TrainableModel> build = (c, d) -> models.build(c, d, precision);
            // The device holds one micro-batch at a time. The dry run counts in the masters' precision: for bf16
            // storage that is an upper bound (bf16 activations take half the bytes; the dry run cannot store bf16).
            int micro = (cfg.batchSize() + sharding.parts() - 1) / sharding.parts();
            Precision counted = Precision.of(precision.master());
            MemoryEstimate estimate = MemoryEstimate.of(cfg.withBatchSize(micro), device.defaultFloat(), (c, d) -> models.build(c, d, counted));
            if (launch.rank() == 0) System.out.println(estimate.describe(device.memory(), device.name()));
            estimate.check(o.batch != null ? "--batch" : "--batch (the preset's " + config.batchSize() + ")", device.memory(), device.name());
            Communicator comm = Communicators.open(device, launch, dist);
            // A signal stops every rank after the same step: that ends the job in order, not as a failure (which aborts it).
            RunStoppedException[] stopped = new RunStoppedException[1];
            Communicators.run(comm, c -> {
                try {
                    DataParallel dp = new DataParallel(c);
                    PrintStream out = c.isRoot() ? System.out : new PrintStream(OutputStream.nullOutputStream());
                    try (BatchSource source = TrainingData.open(data, tokenizer, cfg, seed);
                         TrainableModel model = build.apply(cfg, device)) {
                        source.shard(sharding);
                        if (c.isRoot() && !resume) {
                            // The tokenizer is part of the model: probes and fine-tuning of this run must encode text the same way.
                            Files.createDirectories(runDir);
                            try {
                                source.saveRunFiles(runDir);
                            } catch (IOException e) {
                                throw WriteFailure.of(runDir, "the run's tokenizer", e, 0);
                            }
                        }
                        if (o.init != null) initialise(model, o.init, mod, out);
                        out.printf(Locale.ROOT, "pretraining %s on %s in %s: %d steps, %s x %d clones, lr %.3g (warm-up %d), data: %s, run: %s%n",
                                cfg.name(), device.name(), model.precisionId(), steps, describe(cfg, sharding), cfg.clones(), lr, warmup, source.describe(), runDir);
                        if (c.size() > 1) out.println("data parallel: " + c.describe());
                        Path init = o.init;
                        Pretrainer.Builder b = Pretrainer.builder().model(model).source(source).runDir(runDir).steps(steps)
                                .schedule(schedule).seed(seed).checkpointEvery(every).keepLast(keepLast).resume(resume).resumeFrom(resumePoint)
                                .progressEvery(Duration.ofMillis(Math.round(progress * 1000))).progress(out)
                                .dataParallel(dp).stopAt(stopAt).checkReplicasEvery(checkReplicas)
                                .describe(cfg.name(), mod).stopOnSignals(true)
                                .rebuild(dev -> {
                                    TrainableModel fresh = build.apply(cfg, dev);
                                    if (init != null) {
                                        try {
                                            initialise(fresh, init, mod, null);
                                        } catch (IOException e) {
                                            fresh.close();
                                            throw new java.io.UncheckedIOException(e);
                                        }
                                    }
                                    return fresh;
                                });
                        recorded.forEach(b::config);
                        b.config("--modality", mod).config("--preset", size).config("--lr", Double.toString(lr))
                                .config("--warmup", Long.toString(warmup)).config("--batch", Integer.toString(cfg.batchSize()))
                                .config("ranks", Integer.toString(c.size())).config("update-freq", Integer.toString(sharding.updateFreq()));
                        Pretrainer.Result r = b.build().run();
                        if (!r.metrics().isEmpty()) {
                            out.printf(Locale.ROOT, "done: step %d, loss %.5g; checkpoint %s; metrics and %s in %s%n", r.step(),
                                    r.metrics().get(r.metrics().size() - 1).loss(), r.checkpoint(), Pretrainer.PLOT, runDir);
                            out.printf(Locale.ROOT, "data: %.2f s waiting for batches in all (what prefetching did not hide)%n", source.waitSeconds());
                        }
                        if (c.size() > 1) {
                            out.printf(Locale.ROOT, "gradient all-reduce: %.2f s in all for %d updates (%s)%n", dp.gradientSeconds(),
                                    r.step(), c.describe());
                        }
                    }
                } catch (RunStoppedException e) {
                    stopped[0] = e;
                }
            });
            if (stopped[0] != null) throw stopped[0];
        }
        return Cli.OK;
    }

    /**
     * How each global batch is cut for this job: {@code ranks} × F micro-batches, F given by
     * --update-freq or, by default, the fewest that keep a micro-batch within the per-device batch.
     * Fixed-size batches (image, text) must split evenly; audio batches (by length) are cut as
     * evenly as their clip counts allow.
     */
    static Sharding split(Data2VecConfig cfg, int rank, int ranks, Integer updateFreq) {
        int global = cfg.batchSize();
        boolean even = !(cfg.modality() instanceof ModalityConfig.Audio);
        if (global < ranks) {
            throw new IllegalArgumentException("--batch: the global batch of " + global + " is smaller than the " + ranks + " ranks of this job");
        }
        if (even && global % ranks != 0) {
            throw new IllegalArgumentException("--batch: the global batch of " + global + " does not split evenly over " + ranks + " ranks");
        }
        int f;
        if (updateFreq != null) {
            f = Options.atLeast("--update-freq", updateFreq, 1, 1);
            if ((long) ranks * f > global || (even && global % (ranks * f) != 0)) {
                throw new IllegalArgumentException("--update-freq: the global batch of " + global + " (--batch) does not split into " + ranks
                        + " rank(s) x " + f + " micro-batches" + (even ? " of equal size" : ""));
            }
        } else {
            f = Math.max(1, (global + ranks * cfg.deviceBatch() - 1) / (ranks * cfg.deviceBatch()));
            while (even && global % (ranks * f) != 0) f++; // ends at global / ranks at the latest
        }
        return new Sharding(rank, ranks, f);
    }

    /** "global batch 256 = 2 ranks x 8 micro-batches x 16 per device (preset's per-device batch 16)". */
    static String describe(Data2VecConfig cfg, Sharding s) {
        int global = cfg.batchSize(), parts = s.parts();
        String per = global % parts == 0 ? Integer.toString(global / parts) : "~" + String.format(Locale.ROOT, "%.1f", (double) global / parts);
        return "global batch " + global + " = " + s.ranks() + (s.ranks() == 1 ? " rank" : " ranks") + " x " + s.updateFreq()
                + (s.updateFreq() == 1 ? " micro-batch" : " micro-batches") + " x " + per + " per device (preset's per-device batch "
                + cfg.deviceBatch() + ")";
    }

    /** Loads --init's encoder weights into a new model (student and teacher encoder). */
    private static void initialise(TrainableModel model, Path init, String modality, PrintStream out) throws IOException {
        EncoderWeights.Imported in = EncoderWeights.read(init, modality, EncoderWeights.encoderShapes(model.state()));
        EncoderWeights.load(model.state(), in.values());
        model.restored();
        if (out != null) {
            out.printf(Locale.ROOT, "encoder initialised from %s (%d tensors, %s names; %d skipped)%n", init, in.values().size(),
                    in.format().name().toLowerCase(Locale.ROOT), in.skipped().size());
        }
    }
}
