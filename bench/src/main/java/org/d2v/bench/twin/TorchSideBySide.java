package org.d2v.bench.twin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.bench.MachineLoad;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.demo.DemoPresets;
import org.d2v.train.BatchSource;
import org.d2v.train.TrainingData;

/**
 * Whole data2vec 2.0 training steps of d2v (OpenCL, reference) and of its PyTorch twin (eager,
 * SDPA, torch.compile) side by side in one run: per preset, every engine is built and warmed, then
 * R rounds run each engine for a few steps in turn (d2v OpenCL, the torch modes at torch's own
 * thread count, the eager modes again at 1 thread, d2v reference), so that load drifts hit all of
 * them; medians of the per-step times, the ratio d2v/PyTorch and the machine's load before and
 * after go to bench/results/torch-side-by-side.md (all step times to a dated JSON beside it).
 * Without an importable torch it says so and times d2v alone.
 *
 * <p>Why a 1-thread PyTorch column: on a shared, oversubscribed machine PyTorch's OpenMP threads
 * wait for each other at every parallel region, and a descheduled partner costs a whole scheduler
 * slice, so 2 threads can be many times slower than 1. Which one a user gets depends on the load.
 *
 * <pre>usage: TorchSideBySide [--presets image-demo,image-tiny,audio-tiny,text-tiny] [--rounds 5] [--steps 3]
 *                        [--reference-steps 1] [--modes eager,sdpa,compile] [--single-thread eager,sdpa]
 *                        [--threads N] [--out dir]
 *       TorchSideBySide --from saved.json [--out dir]   (re-renders a saved run, measures nothing)</pre>
 */
public final class TorchSideBySide {
    private TorchSideBySide() {}

    static final List<String> D2V = List.of("opencl", "reference");

    public static void main(String[] args) throws Exception {
        List<String> presets = List.of("image-demo", "image-tiny", "audio-tiny", "text-tiny");
        List<String> modes = List.of("eager", "sdpa", "compile");
        List<String> single = List.of("eager", "sdpa");
        int rounds = 5, steps = 3, refSteps = 1, threads = 0;
        Path out = Path.of("bench/results");
        Path from = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--from" -> from = Path.of(args[++i]);
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--modes" -> modes = List.of(args[++i].split(","));
                case "--single-thread" -> single = args[++i].isEmpty() ? List.of() : List.of(args[i].split(","));
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--reference-steps" -> refSteps = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("TorchSideBySide: unknown option " + args[i]);
            }
        }
        if (from != null) {
            rerender(from, out);
            return;
        }
        String loadBefore = MachineLoad.uptime();
        String torchMissing = TwinProcess.whyUnavailable();
        if (torchMissing != null) System.out.println("PyTorch side skipped: " + torchMissing);
        List<Map<String, Object>> results = new ArrayList<>();
        Map<String, Object> torchInfo = new LinkedHashMap<>();
        try (TwinProcess twin = torchMissing == null ? new TwinProcess(threads) : null) {
            for (String preset : presets) {
                results.add(measure(preset, modes, single, rounds, steps, refSteps, twin, torchInfo));
            }
        }
        String loadAfter = MachineLoad.uptime();
        String md = markdown(results, torchInfo, torchMissing, loadBefore, loadAfter, String.join(" ", args), rounds, steps, refSteps);
        System.out.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("torch-side-by-side.md"), md);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Map<String, Object> saved = new LinkedHashMap<>();
        saved.put("results", results);
        saved.put("torch", torchInfo);
        saved.put("torchMissing", torchMissing);
        saved.put("loadBefore", loadBefore);
        saved.put("loadAfter", loadAfter);
        saved.put("args", String.join(" ", args));
        saved.put("rounds", rounds);
        saved.put("steps", steps);
        saved.put("referenceSteps", refSteps);
        Files.writeString(out.resolve("torch-side-by-side-" + stamp + ".json"), JsonText.write(saved));
    }

    /** The Markdown of a saved run (its JSON), written again with this version's text. */
    @SuppressWarnings("unchecked")
    private static void rerender(Path json, Path out) throws IOException {
        Map<String, Object> saved = (Map<String, Object>) JsonText.parse(Files.readString(json));
        Map<String, Object> torch = new LinkedHashMap<>((Map<String, Object>) saved.get("torch"));
        if (torch.get("threads") instanceof Number n) torch.put("threads", n.intValue());
        String md = markdown((List<Map<String, Object>>) saved.get("results"), torch, (String) saved.get("torchMissing"),
                (String) saved.get("loadBefore"), (String) saved.get("loadAfter"), (String) saved.getOrDefault("args", ""),
                intOr(saved.get("rounds"), 5), intOr(saved.get("steps"), 3), intOr(saved.get("referenceSteps"), 1));
        Files.createDirectories(out);
        Files.writeString(out.resolve("torch-side-by-side.md"), md);
        System.out.println(md);
    }

    private static int intOr(Object o, int fallback) { return o instanceof Number n ? n.intValue() : fallback; }

    /** One d2v engine: a model on its device with a few generated batches, stepped in rounds. */
    private static final class D2vEngine implements AutoCloseable {
        final Device device;
        final Data2Vec model;
        final List<Batch> batches = new ArrayList<>();
        final RandomStream rng = new RandomStream(11);
        long step;

        D2vEngine(String backend, Data2VecConfig cfg) throws IOException {
            device = Backends.open(backend);
            model = new Data2Vec(device, cfg);
            try (BatchSource source = TrainingData.open(TrainingData.GENERATED, cfg, 7)) {
                for (int i = 0; i < 4; i++) batches.add(source.next());
            }
        }

        /**
         * Seconds of each of n updates, each until the device has finished it: trainStep only queues
         * the work (its statistics stay on the device until read), so without the wait the time would
         * be the host's enqueueing, and the device would still be running the step during the next
         * engine's turn, on the same cores.
         */
        double[] steps(int n) {
            double[] s = new double[n];
            for (int i = 0; i < n; i++) {
                Batch b = batches.get((int) (step % batches.size()));
                step++;
                long t0 = System.nanoTime();
                model.trainStep(b, step, 1e-4, rng);
                device.synchronize();
                s[i] = (System.nanoTime() - t0) / 1e9;
            }
            return s;
        }

        @Override
        public void close() {
            model.close();
            device.close();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> measure(String preset, List<String> modes, List<String> single, int rounds, int steps, int refSteps,
                                               TwinProcess twin, Map<String, Object> torchInfo) throws Exception {
        Data2VecConfig cfg = DemoPresets.named(preset);
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("preset", preset);
        Map<String, String> errors = new LinkedHashMap<>();
        try (D2vEngine ocl = new D2vEngine("opencl", cfg); D2vEngine ref = new D2vEngine("reference", cfg)) {
            ocl.steps(2);
            ref.steps(1);
            List<String> live = new ArrayList<>(); // torch engines: "mode" at torch's threads, "mode@1" at one thread
            if (twin != null) {
                try {
                    System.out.println(preset + ": building and warming the PyTorch twin (" + String.join(", ", modes) + ") …");
                    Map<String, Object> r = twin.call(Map.of("cmd", "load", "preset", preset, "modes", modes, "warmup", 2));
                    torchInfo.put("threads", ((Number) r.get("threads")).intValue());
                    torchInfo.put("version", r.get("torch"));
                    row.put("torchWarmupSeconds", r.get("warmup_s"));
                    row.put("torchCompiled", r.get("compiled"));
                    Map<String, Object> failed = (Map<String, Object>) r.getOrDefault("errors", Map.of());
                    failed.forEach((m, why) -> {
                        errors.put(m, String.valueOf(why));
                        System.out.println(preset + ": torch " + m + " failed: " + why);
                    });
                    for (String m : modes) if (!failed.containsKey(m)) live.add(m);
                    for (String m : single) if (live.contains(m) && !m.equals("compile")) live.add(m + "@1");
                } catch (IOException e) {
                    System.out.println(preset + ": the PyTorch twin failed: " + e.getMessage());
                    for (String m : modes) errors.put(m, e.getMessage());
                }
            }
            for (int round = 0; round < rounds; round++) {
                add(times, "d2v-opencl", ocl.steps(steps));
                for (String engine : List.copyOf(live)) {
                    String mode = engine.replace("@1", "");
                    try {
                        Map<String, Object> r = twin.call(Map.of("cmd", "round", "mode", mode, "steps", steps, "threads", engine.endsWith("@1") ? 1 : 0));
                        List<Object> secs = (List<Object>) r.get("seconds");
                        add(times, "torch-" + engine, secs.stream().mapToDouble(o -> ((Number) o).doubleValue()).toArray());
                    } catch (IOException e) {
                        System.out.println(preset + ": torch " + engine + " failed: " + e.getMessage());
                        errors.put(engine, e.getMessage());
                        live.remove(engine);
                    }
                }
                add(times, "d2v-reference", ref.steps(refSteps));
                System.out.printf(Locale.ROOT, "%s round %d/%d: %s%n", preset, round + 1, rounds, summary(times));
            }
        }
        Map<String, Object> medians = new LinkedHashMap<>();
        times.forEach((k, v) -> medians.put(k, median(v)));
        row.put("medianSeconds", medians);
        row.put("seconds", times);
        row.put("steps", times.entrySet().stream().collect(LinkedHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue().size()), Map::putAll));
        row.put("errors", errors);
        return row;
    }

    private static void add(Map<String, List<Double>> times, String engine, double[] secs) {
        List<Double> l = times.computeIfAbsent(engine, k -> new ArrayList<>());
        for (double s : secs) l.add(s);
    }

    private static String summary(Map<String, List<Double>> times) {
        StringBuilder b = new StringBuilder();
        times.forEach((k, v) -> b.append(String.format(Locale.ROOT, "%s %.3f s  ", k, median(v))));
        return b.toString().trim();
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (a.length == 0) return Double.NaN;
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    @SuppressWarnings("unchecked")
    static String markdown(List<Map<String, Object>> rows, Map<String, Object> torch, String torchMissing, String before, String after,
                           String args, int rounds, int steps, int refSteps) {
        List<String> modes = List.of("eager", "sdpa", "compile");
        StringBuilder md = new StringBuilder("# d2v vs its PyTorch twin: whole training steps, side by side\n\n");
        md.append("One data2vec 2.0 update (masks, student, teacher, targets, decoder, loss, backward, clipping, AdamW, EMA) per step, ")
                .append("median seconds per step. Each round runs every engine in turn: d2v OpenCL (").append(steps)
                .append(" steps), PyTorch eager, SDPA and torch.compile (").append(steps).append(" steps each), d2v reference (")
                .append(refSteps).append(" step); ").append(rounds).append(" rounds after a warm-up. Ratio = d2v OpenCL / PyTorch ")
                .append("(above 1: d2v is slower). A d2v step is timed until its device has run it (trainStep only queues the work; ")
                .append("runs before 2026-12-02 timed the queueing alone, and left the device busy during PyTorch's turn).\n\n");
        int t = torch.get("threads") instanceof Integer n ? n : 0;
        String tt = t > 0 ? " (" + t + " threads)" : "";
        md.append("| preset | d2v OpenCL | d2v reference | torch eager").append(tt).append(" | torch SDPA").append(tt).append(" | torch compile").append(tt)
                .append(" | torch eager (1 thread) | torch SDPA (1 thread) | OpenCL / eager | OpenCL / SDPA | OpenCL / compile | OpenCL / best torch |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        List<String> engines = List.of("torch-eager", "torch-sdpa", "torch-compile", "torch-eager@1", "torch-sdpa@1");
        for (Map<String, Object> r : rows) {
            Map<String, Object> m = (Map<String, Object>) r.get("medianSeconds");
            double ocl = num(m.get("d2v-opencl"));
            StringBuilder line = new StringBuilder("| " + r.get("preset") + " | " + fmt(ocl) + " | " + fmt(num(m.get("d2v-reference"))));
            double best = Double.NaN;
            for (String e : engines) {
                double v = num(m.get(e));
                line.append(" | ").append(fmt(v));
                if (!Double.isNaN(v) && (Double.isNaN(best) || v < best)) best = v;
            }
            for (String e : List.of("torch-eager", "torch-sdpa", "torch-compile")) line.append(" | ").append(ratio(ocl, num(m.get(e))));
            line.append(" | ").append(ratio(ocl, best));
            md.append(line).append(" |\n");
        }
        md.append("\n");
        if (torchMissing != null) {
            md.append("**PyTorch skipped**: ").append(torchMissing).append(". Install it (`pip install torch`) to get its columns.\n\n");
        } else {
            md.append("PyTorch ").append(torch.get("version")).append(", ").append(torch.get("threads")).append(" intra-op threads (torch.get_num_threads()). ");
        }
        md.append("d2v: the OpenCL device is PoCL's pthread CPU device (it uses every core it sees; ")
                .append(Runtime.getRuntime().availableProcessors()).append(" here), the reference backend parallel streams (the calling thread + ")
                .append(java.util.concurrent.ForkJoinPool.getCommonPoolParallelism()).append(" pool worker(s)).");
        md.append(torchMissing != null ? "\n\n" : " ");
        if (torchMissing == null) {
            md.append("The 1-thread PyTorch columns are there because on a shared, oversubscribed machine PyTorch's OpenMP threads wait for "
                    + "each other at every parallel region and a descheduled partner costs a whole scheduler slice; compare the load below. "
                    + "torch.compile is not rerun at 1 thread: its kernels keep the thread count they were compiled for. Its warm-up below "
                    + "is short where inductor's on-disk cache already held the graphs from an earlier run.\n\n");
        }
        for (Map<String, Object> r : rows) {
            Object warm = r.get("torchWarmupSeconds");
            Object how = r.get("torchCompiled");
            Map<String, Object> errors = (Map<String, Object>) r.get("errors");
            if (warm != null) {
                md.append("- ").append(r.get("preset")).append(": PyTorch warm-up (2 steps, compilation included) ").append(warmText((Map<String, Object>) warm));
                Object compiled = ((Map<String, Object>) how).get("compile");
                if (compiled != null) md.append("; torch.compile: ").append(compiled);
                md.append(".\n");
            }
            if (errors != null) errors.forEach((k, v) -> md.append("- ").append(r.get("preset")).append(": torch ").append(k).append(" failed: ").append(v).append("\n"));
        }
        md.append("\nLoad before: `").append(before).append("`  \nLoad after: `").append(after).append("`\n\n");
        md.append("Command: `make bench` → `java -cp bench/target/benchmarks.jar ").append(TorchSideBySide.class.getName())
                .append(args.isEmpty() ? "" : " " + args).append("` (from the repository root).\n");
        return md.toString();
    }

    private static String warmText(Map<String, Object> warm) {
        List<String> parts = new ArrayList<>();
        warm.forEach((k, v) -> parts.add(k + " " + String.format(Locale.ROOT, "%.1f s", num(v))));
        return String.join(", ", parts);
    }

    private static String ratio(double d2v, double torch) {
        return Double.isNaN(d2v) || Double.isNaN(torch) ? "–" : String.format(Locale.ROOT, "%.2f", d2v / torch);
    }

    private static double num(Object o) { return o == null ? Double.NaN : ((Number) o).doubleValue(); }

    private static String fmt(double v) { return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f", v); }
}
