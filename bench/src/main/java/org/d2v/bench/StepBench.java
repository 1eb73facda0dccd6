package org.d2v.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.RuntimeCounters;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.train.BatchSource;
import org.d2v.train.StepStats;
import org.d2v.train.TrainingData;

/**
 * End-to-end pretraining throughput: whole data2vec 2.0 updates (masks, student, teacher, decoder,
 * loss, backward, clipping, AdamW, EMA) on generated inputs, per preset and backend, with the
 * device's peak memory (in use and reserved) and what each step asks of the runtime: kernel
 * launches, driver allocations and frees, host synchronisations, bytes uploaded and downloaded.
 * The step statistics are read every {@code --log-every} steps, as the training loop does. The
 * warm-up (3 steps by default) lets the caching allocator fill; audio presets drop layers at
 * random (layerdrop), so their memory pattern settles once a step kept every layer. Each case runs
 * in every precision of {@code --precisions} (fp32 and bf16 by default, docs/precision.md), side
 * by side, with the process's CPU time per step next to the wall time (robust to a loaded machine), and the bytes of the tensors the step's launches were given (RuntimeCounters#tensorBytes:
 * a model of the memory traffic). Writes bench/results/steps-latest.md.
 *
 * <pre>usage: StepBench [--backends a,b] [--presets image-tiny,audio-tiny,text-tiny] [--precisions fp32,bf16]
 *                  [--steps N] [--warmup W] [--log-every K] [--out dir]</pre>
 */
public final class StepBench {
    private StepBench() {}

    record Row(String backend, String preset, String precision, int steps, int logEvery, double secondsPerStep, double cpuSecondsPerStep,
               double samplesPerSecond,
               double tokensPerSecond, long peakBytes, long peakReservedBytes, RuntimeCounters counters, double lastLoss) {
        double perStep(long v) { return (double) v / steps; }
    }

    public static void main(String[] args) throws Exception {
        List<String> backends = Backends.all().stream().filter(b -> b.probe().available()).map(Backend::name).toList();
        List<String> presets = List.of("image-tiny", "audio-tiny", "text-tiny");
        List<String> precisions = List.of("fp32", "bf16");
        int steps = 3, warmup = 3, logEvery = 10;
        Path out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--precisions" -> precisions = List.of(args[++i].split(","));
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--log-every" -> logEvery = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (steps < 1 || warmup < 1 || logEvery < 1) throw new IllegalArgumentException("--steps, --warmup and --log-every must be >= 1");
        List<Row> rows = new ArrayList<>();
        for (String backend : backends) {
            for (String preset : presets) {
                if (backend.equals("reference") && preset.endsWith("-base")) continue; // hours in pure Java
                for (String precision : precisions) {
                    rows.add(measure(backend, preset, precision, steps, warmup, logEvery));
                    System.out.println(rows.get(rows.size() - 1));
                }
            }
        }
        StringBuilder md = new StringBuilder("# End-to-end pretraining steps\n\n");
        md.append("Whole data2vec 2.0 updates on generated inputs after ").append(warmup).append(" warm-up step(s); ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPU threads. ")
                .append("The step statistics are read every ").append(logEvery).append(" steps and after the last (one download each). ")
                .append("Peak = the device's most bytes at once during the timed steps, in use by tensors and reserved from the driver ")
                .append("(the caching allocator's blocks). Per step: kernel launches, driver allocations/frees, host synchronisations, ")
                .append("bytes uploaded/downloaded (reads of the statistics included), and MiB of tensor arguments: Σ over the ")
                .append("step's launches of the bytes of the tensors each was given (each once per launch; a model of the memory ")
                .append("traffic, not a measurement). CPU s/step: CPU time of the whole process (all threads) per step, which on a ")
                .append("shared machine depends less on the neighbours than the wall time does. Precision: fp32, or bf16 activations over ")
                .append("fp32 masters (docs/precision.md).\n\n");
        md.append("| backend | preset | precision | steps | s/step | CPU s/step | samples/s | tokens/s | peak MiB in use | peak MiB reserved "
                + "| MiB of tensor arguments | launches | driver allocs | driver frees | host syncs | bytes up | bytes down | last loss |\n"
                + "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            RuntimeCounters c = r.counters();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.3f | %.3f | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.0f | %.0f | %.4f |%n",
                    r.backend(), r.preset(), r.precision(), r.steps(), r.secondsPerStep(), r.cpuSecondsPerStep(), r.samplesPerSecond(), r.tokensPerSecond(),
                    r.peakBytes() / 1048576.0, r.peakReservedBytes() / 1048576.0, r.perStep(c.tensorBytes()) / 1048576.0,
                    r.perStep(c.launches()), r.perStep(c.driverAllocations()),
                    r.perStep(c.driverFrees()), r.perStep(c.hostSyncs()), r.perStep(c.bytesUploaded()), r.perStep(c.bytesDownloaded()),
                    r.lastLoss()));
        }
        System.out.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("steps-latest.md"), md.toString());
    }

    /**
     * CPU time of this process (every thread: the JVM's and PoCL's), nanoseconds. On a machine shared
     * with other work the wall time per step says more about the neighbours than about the step;
     * the CPU time it took does not depend on them (much: caches and memory bandwidth are shared).
     */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static Row measure(String backend, String preset, String precision, int steps, int warmup, int logEvery) throws Exception {
        Data2VecConfig cfg = Presets.named(preset);
        try (Device dev = Backends.open(backend);
             Data2Vec model = new Data2Vec(dev, cfg, Precision.resolve(precision, dev, "--precisions"));
             BatchSource source = TrainingData.open(TrainingData.GENERATED, cfg, 7)) {
            RandomStream rng = new RandomStream(11);
            for (int s = 1; s <= warmup; s++) model.trainStep(source.next(), s, 1e-4, rng).loss();
            dev.resetPeak();
            dev.resetCounters();
            long samples = 0, tokens = 0;
            StepStats last = null;
            long t0 = System.nanoTime(), cpu0 = processCpuNanos();
            for (int s = 0; s < steps; s++) {
                Batch b = source.next();
                last = model.trainStep(b, warmup + s + 1, 1e-4, rng);
                if ((s + 1) % logEvery == 0) last.loss(); // the logging interval's read
                samples += b.size();
                tokens += (long) b.size() * model.tokens(b);
            }
            double lastLoss = last.loss(); // waits for everything queued
            double sec = (System.nanoTime() - t0) / 1e9, cpu = (processCpuNanos() - cpu0) / 1e9;
            return new Row(backend, preset, model.precision().id(), steps, logEvery, sec / steps, cpu / steps, samples / sec, tokens / sec, dev.peakBytesInUse(),
                    dev.peakBytesReserved(), dev.counters(), lastLoss);
        }
    }
}
