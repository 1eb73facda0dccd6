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
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.train.BatchSource;
import org.d2v.train.StepStats;
import org.d2v.train.TrainingData;

/**
 * End-to-end pretraining throughput: whole data2vec 2.0 updates (masks, student, teacher, decoder,
 * loss, backward, clipping, AdamW, EMA) on generated inputs, per preset and backend, with the
 * device's peak memory. Writes bench/results/steps-latest.md.
 *
 * <pre>usage: StepBench [--backends a,b] [--presets image-tiny,audio-tiny,text-tiny] [--steps N] [--out dir]</pre>
 */
public final class StepBench {
    private StepBench() {}

    record Row(String backend, String preset, int steps, double secondsPerStep, double samplesPerSecond,
               double tokensPerSecond, long peakBytes, double lastLoss) {}

    public static void main(String[] args) throws Exception {
        List<String> backends = Backends.all().stream().filter(b -> b.probe().available()).map(Backend::name).toList();
        List<String> presets = List.of("image-tiny", "audio-tiny", "text-tiny");
        int steps = 3;
        Path out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<Row> rows = new ArrayList<>();
        for (String backend : backends) {
            for (String preset : presets) {
                if (backend.equals("reference") && preset.endsWith("-base")) continue; // hours in pure Java
                rows.add(measure(backend, preset, steps));
                System.out.println(rows.get(rows.size() - 1));
            }
        }
        StringBuilder md = new StringBuilder("# End-to-end pretraining steps\n\n");
        md.append("Whole data2vec 2.0 updates on generated inputs after one warm-up step; ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPU threads. ")
                .append("Peak = the device's most bytes allocated at once during the timed steps.\n\n");
        md.append("| backend | preset | steps | s/step | samples/s | tokens/s | peak MiB | last loss |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.2f | %.1f | %.1f | %.4f |%n", r.backend(), r.preset(),
                    r.steps(), r.secondsPerStep(), r.samplesPerSecond(), r.tokensPerSecond(), r.peakBytes() / 1048576.0, r.lastLoss()));
        }
        System.out.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("steps-latest.md"), md.toString());
    }

    static Row measure(String backend, String preset, int steps) throws Exception {
        Data2VecConfig cfg = Presets.named(preset);
        try (Device dev = Backends.open(backend);
             Data2Vec model = new Data2Vec(dev, cfg);
             BatchSource source = TrainingData.open(TrainingData.GENERATED, cfg, 7)) {
            RandomStream rng = new RandomStream(11);
            Batch warm = source.next();
            model.trainStep(warm, 1, 1e-4, rng);
            dev.synchronize();
            dev.resetPeak();
            long samples = 0, tokens = 0;
            StepStats last = null;
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                Batch b = source.next();
                last = model.trainStep(b, s + 2, 1e-4, rng);
                samples += b.size();
                tokens += (long) b.size() * model.tokens(b);
            }
            dev.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9;
            return new Row(backend, preset, steps, sec / steps, samples / sec, tokens / sec, dev.peakBytesInUse(), last.loss());
        }
    }
}
