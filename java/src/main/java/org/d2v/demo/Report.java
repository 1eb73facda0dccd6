package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes report.md, results.json and probe_accuracy.png of a demo run into its run folder. */
public final class Report {
    public static final String MARKDOWN = "report.md", JSON = "results.json", PROBE_PLOT = "probe_accuracy.png";

    private Report() {}

    public static void write(Path runDir, DemoResult r) throws IOException {
        Files.createDirectories(runDir);
        plotCurve(runDir.resolve(PROBE_PLOT), r);
        Files.writeString(runDir.resolve(MARKDOWN), markdown(r));
        Files.writeString(runDir.resolve(JSON), json(r));
    }

    static void plotCurve(Path out, DemoResult r) throws IOException {
        int n = r.curve().size();
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.curve().get(i).seconds() / 60;
            y[i] = r.curve().get(i).probe().testAccuracy();
        }
        double end = Math.max(x[n - 1], 1e-3);
        DemoResult.CurvePoint q = r.curve().get(0);
        DemoResult.TaskResult main = r.first();
        List<Charts.Series> s = new ArrayList<>();
        String finalSize = String.format(Locale.ROOT, "%,d train / %,d test", main.pretrained().trainSize(), main.pretrained().testSize());
        s.add(new Charts.Series(String.format(Locale.ROOT, "quick probe (%,d train / %,d test)", q.probe().trainSize(), q.probe().testSize()), x, y, true));
        s.add(new Charts.Series("final probe (" + finalSize + ")", new double[] {end}, new double[] {main.pretrained().testAccuracy()}, true));
        s.add(Charts.Series.level("random init, final probe", main.randomInit().testAccuracy(), 0, end));
        s.add(Charts.Series.level(main.raw().what() + ", final probe", main.raw().testAccuracy(), 0, end));
        Charts.lines(out, "linear probe accuracy (" + main.task() + ") vs pretraining time", "pretraining minutes", "test accuracy", s);
    }

    static String markdown(DemoResult r) {
        StringBuilder b = new StringBuilder();
        b.append("# d2v demo: data2vec 2.0 on ").append(r.data()).append("\n\n");
        b.append("Linear probe on frozen features (encoder in eval mode, no masking; features as `d2v demo --help` describes), the same "
                + "procedure for the pretrained model, the same model at its random initialisation and the raw features.\n\n");
        for (DemoResult.TaskResult t : r.tasks()) {
            b.append("## ").append(t.task()).append("\n\n");
            b.append(String.format(Locale.ROOT, "Trained on %d examples, tested on %d.\n\n", t.pretrained().trainSize(), t.pretrained().testSize()));
            b.append("| features | test accuracy | train accuracy | L2 (chosen on held-out train) | probe time |\n|---|---|---|---|---|\n");
            for (Probe.Outcome p : List.of(t.pretrained(), t.randomInit(), t.raw())) {
                b.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %.0e | %.0f s |\n", p.what(), p.testAccuracy(), p.trainAccuracy(), p.l2(), p.seconds()));
            }
            double acc = t.pretrained().testAccuracy(), raw = t.raw().testAccuracy();
            b.append(String.format(Locale.ROOT, "\nPretrained minus random init: %+.1f points; minus %s (%.4f, measured in this run): %+.1f points",
                    t.gainOverRandomPoints(), t.raw().what(), raw, 100 * (acc - raw)));
            if (t.floor() != raw) b.append(String.format(Locale.ROOT, "; minus the published floor (%.4f): %+.1f points", t.floor(), 100 * (acc - t.floor())));
            b.append(String.format(Locale.ROOT, ". The bar (%s) is %s.\n\n", t.bar(), t.met() ? "**met**" : "**not met**"));
        }
        b.append("## Pretraining\n\n");
        b.append(String.format(Locale.ROOT, "- model: %s (%s)\n", r.preset(), r.modelSummary()));
        b.append(String.format(Locale.ROOT, "- backend: %s (%s); calibration, seconds per step: %s\n", r.backend(), r.deviceName(), perStep(r.backendSecondsPerStep())));
        b.append(String.format(Locale.ROOT, "- budget %.0f s; pretrained for %.1f s: %d steps of %d samples x %d clones, %.1f samples/s\n",
                r.budgetSeconds(), r.pretrainSeconds(), r.steps(), r.batchSize(), r.clones(), r.samplesPerSecond()));
        b.append(String.format(Locale.ROOT, "- loss: %.4f at the start, %.4f at the end (means over the first and last tenth of the steps, at most 20)\n",
                r.lossStart(), r.lossEnd()));
        b.append(String.format(Locale.ROOT, "- whole run (calibration, probes, report): %.1f s\n\n", r.totalSeconds()));
        b.append("## Probe accuracy during pretraining (").append(r.first().task()).append(")\n\n| step | pretraining time | quick probe test accuracy |\n|---|---|---|\n");
        for (DemoResult.CurvePoint c : r.curve()) {
            b.append(String.format(Locale.ROOT, "| %d | %.1f s | %.4f (%d/%d) |\n", c.step(), c.seconds(), c.probe().testAccuracy(),
                    c.probe().trainSize(), c.probe().testSize()));
        }
        b.append("\n## Figures\n\n");
        b.append("- `loss.png`: pretraining loss per step (metrics in `metrics.csv`, `metrics.jsonl`)\n");
        b.append("- `" + PROBE_PLOT + "`: probe accuracy against pretraining time, with the random-init and raw-feature levels\n");
        for (String f : r.figures()) b.append("- ").append(f).append('\n');
        if (!r.notes().isEmpty()) {
            b.append("\n## Notes\n\n");
            for (String n : r.notes()) b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }

    static String json(DemoResult r) {
        StringBuilder b = new StringBuilder("{\n");
        b.append(String.format(Locale.ROOT, "  \"data\": \"%s\",\n  \"preset\": \"%s\",\n  \"backend\": \"%s\",\n  \"steps\": %d,\n  \"batch\": %d,\n  \"clones\": %d,\n",
                esc(r.data()), esc(r.preset()), esc(r.backend()), r.steps(), r.batchSize(), r.clones()));
        b.append(String.format(Locale.ROOT, "  \"pretrain_seconds\": %.3f,\n  \"samples_per_second\": %.3f,\n  \"loss_start\": %.6g,\n  \"loss_end\": %.6g,\n",
                r.pretrainSeconds(), r.samplesPerSecond(), r.lossStart(), r.lossEnd()));
        b.append("  \"tasks\": [");
        for (int i = 0; i < r.tasks().size(); i++) {
            DemoResult.TaskResult t = r.tasks().get(i);
            b.append(i == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT, "    {\"task\": \"%s\", \"pretrained\": %.6f, \"random_init\": %.6f, "
                            + "\"raw\": %.6f, \"raw_features\": \"%s\", \"floor\": %.6f, \"train_size\": %d, \"test_size\": %d, \"bar_met\": %b}",
                    esc(t.task()), t.pretrained().testAccuracy(), t.randomInit().testAccuracy(), t.raw().testAccuracy(), esc(t.raw().what()), t.floor(),
                    t.pretrained().trainSize(), t.pretrained().testSize(), t.met()));
        }
        b.append("\n  ],\n  \"curve\": [");
        for (int i = 0; i < r.curve().size(); i++) {
            DemoResult.CurvePoint c = r.curve().get(i);
            b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "{\"step\": %d, \"seconds\": %.3f, \"accuracy\": %.6f}",
                    c.step(), c.seconds(), c.probe().testAccuracy()));
        }
        b.append("],\n");
        b.append(String.format(Locale.ROOT, "  \"total_seconds\": %.3f\n}\n", r.totalSeconds()));
        return b.toString();
    }

    private static String perStep(Map<String, Double> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.3f", k, v)));
        return b.toString();
    }

    private static String esc(String s) { return s.replace("\\", "\\\\").replace("\"", "\\\""); }
}
