package org.d2v.bench;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import javax.imageio.ImageIO;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data.audio.Wav;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.train.BatchSource;
import org.d2v.train.TrainingData;

/**
 * What loading real files costs a pretraining step: for each preset, the same whole updates as
 * {@link StepBench} once on generated inputs and once on files written for the run (JPEGs of
 * 160–400 pixels, 16 kHz WAVs of 1–6 s, .txt documents), reporting seconds per step and the
 * seconds per step the loop waited for the prefetch thread (decoding it could not hide), plus the
 * time to assemble one batch alone. Writes bench/results/data-latest.md.
 *
 * <pre>usage: DataBench [--backend opencl] [--presets image-tiny,audio-tiny,text-tiny] [--steps N] [--out dir]</pre>
 */
public final class DataBench {
    private DataBench() {}

    record Row(String preset, String data, int steps, double secondsPerStep, double waitPerStep, double assembleSeconds) {}

    public static void main(String[] args) throws Exception {
        String backend = Backends.all().stream().filter(b -> b.probe().available()).map(Backend::name).filter(n -> !n.equals("reference"))
                .findFirst().orElse("reference");
        List<String> presets = List.of("image-tiny", "audio-tiny", "text-tiny", "image-base");
        int steps = 4;
        Path out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path files = Files.createTempDirectory("d2v-databench");
        Path images = writeImages(files.resolve("images"), 64), clips = writeClips(files.resolve("clips"), 48), text = writeText(files.resolve("text"), 40);
        List<Row> rows = new ArrayList<>();
        try {
        for (String preset : presets) {
            Data2VecConfig cfg = Presets.named(preset);
            if (preset.endsWith("-base")) cfg = cfg.withBatchSize(1).withClones(2); // one base update fits this machine's minutes
            Path data = preset.startsWith("image") ? images : preset.startsWith("audio") ? clips : text;
            for (String d : new String[] {TrainingData.GENERATED, data.toString()}) {
                rows.add(measure(backend, cfg, d, steps, d.equals(TrainingData.GENERATED) ? "generated" : data.getFileName() + " files"));
                System.out.println(rows.get(rows.size() - 1));
            }
        }
        } finally {
            try (java.util.stream.Stream<Path> s = Files.walk(files)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        StringBuilder md = new StringBuilder("# Data loading per pretraining step\n\n");
        md.append("Backend ").append(backend).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" CPU threads, load average at start ").append(String.format(Locale.ROOT, "%.2f", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()))
                .append(". Files: 64 JPEGs 160-400 px, 48 WAVs 1-6 s, 40 .txt documents, written for the run. ")
                .append("wait = time next() blocked on the prefetch thread (decoding not hidden behind the previous step); ")
                .append("assemble = one batch built alone on this thread (decode + transform).\n\n");
        md.append("| preset | data | steps | s/step | wait s/step | assemble s/batch |\n|---|---|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.4f | %.4f |%n", r.preset(), r.data(), r.steps(), r.secondsPerStep(), r.waitPerStep(),
                    r.assembleSeconds()));
        }
        System.out.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("data-latest.md"), md.toString());
    }

    static Row measure(String backend, Data2VecConfig cfg, String data, int steps, String what) throws Exception {
        double assemble;
        try (BatchSource probe = TrainingData.open(data, cfg, 5)) {
            probe.next(); // warm: the first batch pays class loading
            long t0 = System.nanoTime();
            probe.seek(7);
            probe.next(); // after a seek nothing is prefetched: this is one batch's full cost
            assemble = (System.nanoTime() - t0) / 1e9;
        }
        try (Device dev = Backends.open(backend); Data2Vec model = new Data2Vec(dev, cfg); BatchSource source = TrainingData.open(data, cfg, 7)) {
            RandomStream rng = new RandomStream(11);
            model.trainStep(source.next(), 1, 1e-4, rng);
            dev.synchronize();
            double waited0 = source.waitSeconds();
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                Batch b = source.next();
                model.trainStep(b, s + 2, 1e-4, rng);
            }
            dev.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9;
            return new Row(cfg.name(), what, steps, sec / steps, (source.waitSeconds() - waited0) / steps, assemble);
        }
    }

    static Path writeImages(Path dir, int n) throws Exception {
        Files.createDirectories(dir);
        Random r = new Random(1);
        for (int i = 0; i < n; i++) {
            int w = 160 + r.nextInt(240), h = 160 + r.nextInt(240);
            BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) im.setRGB(x, y, ((x * 7 + i) & 255) << 16 | ((y * 5) & 255) << 8 | ((x + y) & 255));
            ImageIO.write(im, "jpg", dir.resolve(i + ".jpg").toFile());
        }
        return dir;
    }

    static Path writeClips(Path dir, int n) throws Exception {
        Files.createDirectories(dir);
        Random r = new Random(2);
        for (int i = 0; i < n; i++) {
            float[] w = new float[16_000 + r.nextInt(80_000)];
            for (int t = 0; t < w.length; t++) w[t] = (float) (0.3 * Math.sin(2 * Math.PI * (200 + 10 * i) * t / 16_000.0) + 0.01 * r.nextGaussian());
            Wav.write(dir.resolve(i + ".wav"), w, Wav.RATE);
        }
        return dir;
    }

    static Path writeText(Path dir, int n) throws Exception {
        Files.createDirectories(dir);
        Random r = new Random(3);
        String[] words = {"the", "data", "model", "learns", "from", "its", "own", "representations", "of", "masked", "inputs", "and", "teacher"};
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < 3000; k++) b.append(words[r.nextInt(words.length)]).append(k % 17 == 16 ? ".\n" : " ");
            Files.writeString(dir.resolve(i + ".txt"), b);
        }
        return dir;
    }
}
