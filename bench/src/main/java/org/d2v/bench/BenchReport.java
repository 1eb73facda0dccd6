package org.d2v.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.tensor.Scope;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code make bench}: runs {@link OpsBench} for every op family on every available backend, then
 * reports each op's time, GB/s, GFLOP/s and its share of the roofline (copy bandwidth and GEMM
 * rate measured in the same run on the same device) as Markdown and JSON in bench/results/.
 *
 * <pre>usage: BenchReport [--full] [--backends a,b] [--presets tiny,base] [--ops x,y] [--out dir] [--from saved.json]</pre>
 * Quick mode (default) runs 1 fork × (1 warm-up + 3 measured) 1-second iterations; --full runs
 * 2 forks × (3 + 5). The pure-Java reference backend runs the tiny preset only.
 */
public final class BenchReport {
    private BenchReport() {}

    record Row(String backend, String preset, String op, double ms, double msError, double bytes, double flops) {
        double gbs() { return bytes / (ms * 1e-3) / 1e9; }

        double gflops() { return flops / (ms * 1e-3) / 1e9; }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        boolean full = opt.containsKey("full");
        List<String> backends = opt.containsKey("backends") ? List.of(opt.get("backends").split(","))
                : Backends.all().stream().filter(b -> b.probe().available()).map(Backend::name).toList();
        List<String> presets = List.of(opt.getOrDefault("presets", full ? "tiny,base" : "tiny").split(","));
        List<String> ops = opt.containsKey("ops") ? List.of(opt.get("ops").split(",")) : OpCases.names();
        Path out = Path.of(opt.getOrDefault("out", "bench/results"));

        List<Row> rows = new ArrayList<>();
        if (opt.containsKey("from")) backends = List.of(); // re-render a saved run, measure nothing
        if (opt.containsKey("from")) rows.addAll(readJson(Path.of(opt.get("from"))));
        for (String backend : backends) {
            for (String preset : presets) {
                if (backend.equals("reference") && preset.equals("base")) continue; // hours in pure Java
                Map<String, double[]> work = work(backend, preset, ops);
                for (String op : ops) {
                    RunResult r = runOne(backend, preset, op, full);
                    double[] w = work.get(op);
                    rows.add(new Row(backend, preset, op, r.getPrimaryResult().getScore(),
                            r.getPrimaryResult().getScoreError(), w[0], w[1]));
                }
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String md = markdown(rows, full ? "full" : "quick", String.join(" ", args));
        System.out.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("ops-" + stamp + ".md"), md);
        Files.writeString(out.resolve("ops-" + stamp + ".json"), json(rows));
        Files.writeString(out.resolve("latest.md"), md);
    }

    /** Bytes and flops of each op, read from its prepared case (cheap: allocation only, then closed). */
    private static Map<String, double[]> work(String backend, String preset, List<String> ops) {
        Map<String, double[]> m = new LinkedHashMap<>();
        try (Device dev = Backends.open(backend)) {
            for (String op : ops) {
                try (Scope s = Scope.open()) {
                    OpCase.Prepared p = OpCases.get(op).prepare(dev, Preset.named(preset));
                    m.put(op, new double[] {p.bytes(), p.flops()});
                }
            }
        }
        return m;
    }

    private static RunResult runOne(String backend, String preset, String op, boolean full) throws RunnerException {
        Options o = new OptionsBuilder()
                .include(OpsBench.class.getName() + ".run")
                .param("backend", backend).param("preset", preset).param("op", op)
                .forks(full ? 2 : 1)
                .warmupIterations(full ? 3 : 1).warmupTime(TimeValue.seconds(1))
                .measurementIterations(full ? 5 : 3).measurementTime(TimeValue.seconds(1))
                .jvmArgsAppend("-Xmx12g")
                .shouldFailOnError(true)
                .build();
        return new Runner(o).runSingle();
    }

    static String markdown(List<Row> rows, String mode, String args) {
        StringBuilder sb = new StringBuilder();
        sb.append("# d2v op benchmarks (").append(mode).append(")\n\n");
        sb.append("Command: `make bench").append(mode.equals("full") ? " BENCH_MODE=full" : "").append("`")
                .append(args.isBlank() ? "" : " (BenchReport " + args + ")").append(". ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPU threads.\n\n");
        sb.append("Roofline share = max(bytes / bandwidth, flops / GEMM rate) / measured time. Both limits are measured\n")
                .append("in this run on the same backend and preset: the `copy` and `gemm-peak` probes, or the best GB/s or\n")
                .append("GFLOP/s any op reached there if higher (cache-resident working sets stream faster than the copy).\n\n");
        sb.append("| backend | preset | op | ms | ± | GB/s | GFLOP/s | roofline share |\n|---|---|---|---:|---:|---:|---:|---:|\n");
        List<Row> scored = new ArrayList<>();
        for (Row r : rows) {
            Double share = share(rows, r);
            if (share != null && !OpCases.ROOFLINE.contains(r.op())) scored.add(r);
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.4f | %.4f | %.2f | %.2f | %s |%n", r.backend(), r.preset(),
                    r.op(), r.ms(), r.msError(), r.gbs(), r.gflops(), share == null ? "" : String.format(Locale.ROOT, "%.1f%%", 100 * share)));
        }
        scored.sort(Comparator.comparingDouble(r -> share(rows, r)));
        sb.append("\nLowest shares of the roofline:\n");
        for (int i = 0; i < Math.min(3, scored.size()); i++) {
            Row r = scored.get(i);
            sb.append(String.format(Locale.ROOT, "%d. %s %s %s: %.1f%%%n", i + 1, r.backend(), r.preset(), r.op(), 100 * share(rows, r)));
        }
        return sb.toString();
    }

    /** Share of the attainable speed, or null without both roofline probes for that backend/preset. */
    static Double share(List<Row> rows, Row r) {
        Row copy = find(rows, r, "copy"), gemm = find(rows, r, "gemm-peak");
        if (copy == null || gemm == null) return null;
        // The empirical roofline: the probes, or any op of the same backend and preset that beat them
        // (a working set that fits in cache streams faster than the large copy; some GEMM shapes
        // run faster than the square probe). So a share is never above 100%.
        double bw = copy.gbs(), peak = gemm.gflops();
        for (Row o : rows) {
            if (o.backend().equals(r.backend()) && o.preset().equals(r.preset())) {
                bw = Math.max(bw, o.gbs());
                peak = Math.max(peak, o.gflops());
            }
        }
        double ideal = Math.max(r.bytes() / (bw * 1e9), r.flops() / (peak * 1e9));
        return ideal / (r.ms() * 1e-3);
    }

    private static Row find(List<Row> rows, Row like, String op) {
        for (Row r : rows) if (r.backend().equals(like.backend()) && r.preset().equals(like.preset()) && r.op().equals(op)) return r;
        return null;
    }

    static String json(List<Row> rows) {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            Double s = share(rows, r);
            sb.append(String.format(Locale.ROOT,
                    "  {\"backend\": \"%s\", \"preset\": \"%s\", \"op\": \"%s\", \"ms\": %.6f, \"ms_error\": %.6f, \"bytes\": %.0f, \"flops\": %.0f, \"gb_per_s\": %.4f, \"gflop_per_s\": %.4f, \"roofline_share\": %s}%s%n",
                    r.backend(), r.preset(), r.op(), r.ms(), r.msError(), r.bytes(), r.flops(), r.gbs(), r.gflops(),
                    s == null ? "null" : String.format(Locale.ROOT, "%.4f", s), i + 1 < rows.size() ? "," : ""));
        }
        return sb.append("]\n").toString();
    }

    /** Rows of a JSON file this class wrote (one object per line). */
    static List<Row> readJson(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        java.util.regex.Pattern field = java.util.regex.Pattern.compile("\"(\\w+)\": (\"[^\"]*\"|[-0-9.eE]+|null)");
        for (String line : Files.readAllLines(file)) {
            if (!line.contains("\"op\"")) continue;
            Map<String, String> f = new LinkedHashMap<>();
            java.util.regex.Matcher m = field.matcher(line);
            while (m.find()) f.put(m.group(1), m.group(2).replace("\"", ""));
            rows.add(new Row(f.get("backend"), f.get("preset"), f.get("op"), Double.parseDouble(f.get("ms")),
                    Double.parseDouble(f.get("ms_error")), Double.parseDouble(f.get("bytes")), Double.parseDouble(f.get("flops"))));
        }
        return rows;
    }

    private static Map<String, String> parse(String[] args) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument " + a);
            String k = a.substring(2);
            if (k.equals("full")) m.put(k, "");
            else if (i + 1 < args.length) m.put(k, args[++i]);
            else throw new IllegalArgumentException(a + " needs a value");
        }
        return m;
    }
}
