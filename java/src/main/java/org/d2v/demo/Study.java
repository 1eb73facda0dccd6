package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The small-scale study: variants of the pretraining objective trained for the same wall-clock
 * budget each, compared by linear-probe accuracy against time (study.md and study.png).
 */
public final class Study {
    public static final String MARKDOWN = "study.md", PLOT = "study.png";

    /** One variant's name and what its run measured. */
    public record Arm(String name, DemoResult result) {}

    private Study() {}

    public static void write(Path dir, List<Arm> arms, List<String> notes) throws IOException {
        if (arms.isEmpty()) throw new IllegalArgumentException("a study needs at least one arm");
        Files.createDirectories(dir);
        List<Charts.Series> series = new ArrayList<>();
        for (Arm a : arms) {
            List<DemoResult.CurvePoint> c = a.result().curve();
            double[] x = new double[c.size()], y = new double[c.size()];
            for (int i = 0; i < c.size(); i++) {
                x[i] = c.get(i).seconds() / 60;
                y[i] = c.get(i).probe().testAccuracy();
            }
            series.add(new Charts.Series(a.name(), x, y, true));
        }
        DemoResult first = arms.get(0).result();
        DemoResult.CurvePoint q = arms.get(0).result().curve().get(0);
        Charts.lines(dir.resolve(PLOT), String.format(Locale.ROOT, "study: quick linear probe (%,d train / %,d test) vs pretraining time, same budget each",
                q.probe().trainSize(), q.probe().testSize()), "pretraining minutes",
                "test accuracy", series);
        StringBuilder b = new StringBuilder("# d2v demo --study\n\n");
        b.append(String.format(Locale.ROOT, "Each arm pretrains for the same budget (%.0f s, turned into steps from a timing at its start; on a shared machine the "
                + "actual time differs, see the column) on %s, then the linear probe (%d train / %d test).\n\n",
                first.budgetSeconds(), first.backend(), first.first().pretrained().trainSize(), first.first().pretrained().testSize()));
        b.append("| arm | steps | pretrained s | samples/s | loss start -> end | final probe | random init |");
        int points = first.curve().size() - 1;
        for (int k = 0; k <= points; k++) b.append(String.format(Locale.ROOT, " quick %d/%d |", k, points));
        b.append("\n|---|---|---|---|---|---|---|");
        for (int i = 0; i < first.curve().size(); i++) b.append("---|");
        b.append('\n');
        for (Arm a : arms) {
            DemoResult r = a.result();
            b.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.1f | %.3f -> %.3f | %.4f | %.4f |", a.name(), r.steps(), r.pretrainSeconds(), r.samplesPerSecond(),
                    r.lossStart(), r.lossEnd(), r.first().pretrained().testAccuracy(), r.first().randomInit().testAccuracy()));
            for (DemoResult.CurvePoint c : r.curve()) b.append(String.format(Locale.ROOT, " %.4f (step %d, %.0f s) |", c.probe().testAccuracy(), c.step(), c.seconds()));
            b.append('\n');
        }
        b.append(String.format(Locale.ROOT, "\n%s, same probe: %.4f.\n", capitalised(first.first().raw().what()), first.first().raw().testAccuracy()));
        if (!notes.isEmpty()) {
            b.append("\n## Notes\n\n");
            for (String n : notes) b.append("- ").append(n).append('\n');
        }
        Files.writeString(dir.resolve(MARKDOWN), b.toString());
    }

    private static String capitalised(String s) { return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1); }
}
