package org.d2v.bench.profile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.bench.ForwardingDevice;
import org.d2v.bench.MachineLoad;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.demo.DemoPresets;
import org.d2v.train.BatchSource;
import org.d2v.train.TrainingData;

/**
 * The per-op-family profile of one data2vec 2.0 training step, without touching the runtimes: the
 * model runs on a {@link ForwardingDevice} whose {@link ProfilingOps} synchronise around every op.
 * A second model of the same preset on the plain device runs the same number of steps, alternating,
 * for the step's wall time without the per-op syncs (the difference is the cost of profiling).
 * Writes {@code profile-TAG.md} and one {@code profile-TAG-PRESET.png} bar chart per preset.
 *
 * <pre>usage: OpProfile [--presets image-demo,image-tiny] [--backend opencl] [--steps 5] [--tag before] [--out bench/results]</pre>
 */
public final class OpProfile {
    private OpProfile() {}

    record Result(String preset, String device, int steps, double plainMs, double profiledMs, Map<String, ProfilingOps.Tally> families,
                  Map<String, ProfilingOps.Tally> classes) {
        double opsMs() { return families.values().stream().mapToLong(t -> t.nanos).sum() / 1e6 / steps; }
    }

    public static void main(String[] args) throws Exception {
        List<String> presets = List.of("image-demo", "image-tiny");
        String backend = "opencl", tag = "before";
        int steps = 5;
        Path out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--backend" -> backend = args[++i];
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--tag" -> tag = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("OpProfile: unknown option " + args[i]);
            }
        }
        String before = MachineLoad.uptime();
        List<Result> results = new ArrayList<>();
        for (String p : presets) results.add(profile(p, backend, steps));
        String after = MachineLoad.uptime();
        Files.createDirectories(out);
        StringBuilder md = new StringBuilder("# Per-op-family profile of one training step (" + tag + ")\n\n");
        md.append("Every op of `Data2Vec.trainStep` runs between two device synchronisations (`ProfilingOps`), so each op's time ")
                .append("is its whole run, launch included; *outside ops* is what the step's wall time leaves: Java autograd, masks, ")
                .append("argument setting, the sync calls themselves. The unprofiled wall time comes from a second model of the same ")
                .append("preset on the plain device, stepped alternately. Per step, mean over the measured steps after a warm-up.\n\n");
        for (Result r : results) {
            String png = "profile-" + tag + "-" + r.preset() + ".png";
            md.append(section(r, png));
            chart(r, out.resolve(png));
        }
        md.append("Load before: `").append(before).append("`  \nLoad after: `").append(after).append("`\n\n");
        md.append("Command: `java -cp bench/target/benchmarks.jar ").append(OpProfile.class.getName()).append(args.length == 0 ? "" : " " + String.join(" ", args))
                .append("` (from the repository root, with PoCL: `LD_PRELOAD=$JAVA_HOME/lib/libjsig.so`).\n");
        Path file = out.resolve("profile-" + tag + ".md");
        Files.writeString(file, md.toString());
        System.out.println(md);
        System.out.println("wrote " + file);
    }

    static Result profile(String preset, String backend, int steps) throws IOException {
        Data2VecConfig cfg = DemoPresets.named(preset);
        int d = cfg.encoder().dim(), mlp = cfg.encoder().mlpDim(), dec = cfg.decoder().dim();
        int projHidden = cfg.decoder().projectionLayers() > 1 ? (int) Math.round(dec * cfg.decoder().projectionRatio()) : 0;
        try (Device inner = Backends.open(backend)) {
            ProfilingOps[] prof = new ProfilingOps[1];
            ForwardingDevice dev = new ForwardingDevice(inner, ops -> prof[0] = new ProfilingOps(ops, inner, ProfilingOps.transformer(d, mlp, dec, projHidden)));
            List<Batch> batches = new ArrayList<>();
            try (BatchSource source = TrainingData.open(TrainingData.GENERATED, cfg, 7)) {
                for (int i = 0; i < 4; i++) batches.add(source.next());
            }
            try (Data2Vec profiled = new Data2Vec(dev, cfg); Data2Vec plain = new Data2Vec(inner, cfg)) {
                RandomStream rp = new RandomStream(11), rq = new RandomStream(11);
                for (int s = 1; s <= 2; s++) {
                    plain.trainStep(batches.get(s % 4), s, 1e-4, rq);
                    profiled.trainStep(batches.get(s % 4), s, 1e-4, rp);
                }
                long plainNs = 0, profNs = 0;
                prof[0].reset();
                for (int s = 3; s < 3 + steps; s++) {
                    Batch b = batches.get(s % 4);
                    // Alternate which model goes first, so that neither always runs on the other's warm caches.
                    for (int turn = 0; turn < 2; turn++) {
                        boolean profiledTurn = (turn == 0) == (s % 2 == 0);
                        long t0 = System.nanoTime();
                        if (profiledTurn) {
                            prof[0].enable(true);
                            profiled.trainStep(b, s, 1e-4, rp);
                            inner.synchronize();
                            prof[0].enable(false);
                            profNs += System.nanoTime() - t0;
                        } else {
                            plain.trainStep(b, s, 1e-4, rq);
                            inner.synchronize();
                            plainNs += System.nanoTime() - t0;
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "%s: %.1f ms/step plain, %.1f ms/step profiled%n", preset, plainNs / 1e6 / steps, profNs / 1e6 / steps);
                return new Result(preset, inner.name(), steps, plainNs / 1e6 / steps, profNs / 1e6 / steps, prof[0].families(), prof[0].classes());
            }
        }
    }

    private static String section(Result r, String png) {
        StringBuilder md = new StringBuilder();
        double ops = r.opsMs(), outside = r.profiledMs() - ops;
        md.append("## ").append(r.preset()).append(" on ").append(r.device()).append("\n\n");
        double extra = r.profiledMs() - r.plainMs();
        md.append(String.format(Locale.ROOT, "Step wall time: **%.1f ms unprofiled**, %.1f ms profiled (%.1f ms in ops, %.1f ms outside ops); "
                + "%s %.1f ms (%.0f%%). %d steps each.%n%n", r.plainMs(), r.profiledMs(), ops, outside,
                extra >= 0 ? "profiling's syncs add" : "the step synchronised after every op was FASTER than the unsynchronised one, by",
                Math.abs(extra), 100 * Math.abs(extra) / r.plainMs(), r.steps()));
        md.append("| op family | calls/step | ms/step | share of the profiled step | GFLOP/s |\n|---|---:|---:|---:|---:|\n");
        List<Map.Entry<String, ProfilingOps.Tally>> fam = sorted(r.families());
        for (Map.Entry<String, ProfilingOps.Tally> e : fam) md.append(row(e.getKey(), e.getValue(), r));
        md.append(String.format(Locale.ROOT, "| outside ops (host) | | %.2f | %.1f%% | |%n", outside, 100 * outside / r.profiledMs()));
        md.append(String.format(Locale.ROOT, "| **step (profiled)** | **%d** | **%.2f** | 100%% | |%n%n",
                r.families().values().stream().mapToLong(t -> t.calls).sum() / r.steps(), r.profiledMs()));
        md.append("![").append(r.preset()).append(" profile](").append(png).append(")\n\n");
        md.append("<details><summary>By shape class (").append(r.classes().size()).append(" classes)</summary>\n\n");
        md.append("| class | calls/step | ms/step | share | GFLOP/s |\n|---|---:|---:|---:|---:|\n");
        for (Map.Entry<String, ProfilingOps.Tally> e : sorted(r.classes())) md.append(row(e.getKey(), e.getValue(), r));
        md.append("\n</details>\n\n");
        return md.toString();
    }

    private static List<Map.Entry<String, ProfilingOps.Tally>> sorted(Map<String, ProfilingOps.Tally> m) {
        List<Map.Entry<String, ProfilingOps.Tally>> l = new ArrayList<>(m.entrySet());
        l.sort(Comparator.comparingLong((Map.Entry<String, ProfilingOps.Tally> e) -> e.getValue().nanos).reversed());
        return l;
    }

    private static String row(String name, ProfilingOps.Tally t, Result r) {
        double ms = t.nanos / 1e6 / r.steps();
        String gf = t.flops > 0 ? String.format(Locale.ROOT, "%.2f", t.flops / (t.nanos * 1e-9) / 1e9) : "";
        return String.format(Locale.ROOT, "| %s | %.1f | %.2f | %.1f%% | %s |%n", name, (double) t.calls / r.steps(), ms, 100 * ms / r.profiledMs(), gf);
    }

    private static void chart(Result r, Path file) throws IOException {
        List<BarChart.Bar> bars = new ArrayList<>();
        double outside = r.profiledMs() - r.opsMs();
        List<Map.Entry<String, ProfilingOps.Tally>> fam = sorted(r.families());
        for (Map.Entry<String, ProfilingOps.Tally> e : fam) {
            double ms = e.getValue().nanos / 1e6 / r.steps();
            bars.add(new BarChart.Bar(e.getKey(), ms, String.format(Locale.ROOT, "%.1f ms  %.0f%%  (%d calls)", ms, 100 * ms / r.profiledMs(),
                    e.getValue().calls / r.steps()), false));
        }
        bars.add(new BarChart.Bar("outside ops (host)", outside, String.format(Locale.ROOT, "%.1f ms  %.0f%%", outside, 100 * outside / r.profiledMs()), true));
        bars.sort(Comparator.comparingDouble(BarChart.Bar::value).reversed());
        BarChart.write(file, String.format(Locale.ROOT, "%s on %s: %.0f ms/step profiled, %.0f ms unprofiled", r.preset(),
                r.device().split(":")[0], r.profiledMs(), r.plainMs()), "ms per step", bars);
    }
}
