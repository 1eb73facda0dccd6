package org.d2v.diagnostics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.d2v.demo.Charts;

/**
 * The diagnostics of one run over time, with the warnings they raise, as a report section, a CSV
 * and two charts. Thresholds (docs/evaluation.md, "Diagnostics"):
 * <ul>
 *   <li>features collapse: the effective rank of the pooled features below {@link #MIN_RANK}, or below
 *       {@link #DROP} × its first value;</li>
 *   <li>targets collapse: their std below {@link #MIN_TARGET_STD} (fairseq's {@code min_target_var}) or
 *       below {@link #DROP} × its first value, or their effective rank below {@link #DROP} × its first value;</li>
 *   <li>predictions collapse: their std below {@link #MIN_PRED_STD} (fairseq's {@code min_pred_var});</li>
 *   <li>positional targets: more than {@link #MAX_POSITION_SHARE} of the targets' spread on a pretraining
 *       batch is explained by position alone ({@link PositionShare}): the student can fit them without
 *       reading any content;</li>
 *   <li>drift: the quick probe {@link #PROBE_DRIFT} or more below its first value or below its best so far,
 *       or the teacher further than {@link #MAX_TEACHER_DISTANCE} (relative L2) from the student.</li>
 * </ul>
 */
public final class DiagnosticsLog {
    public static final String CSV = "diagnostics.csv", CHART = "diagnostics.png", RANKS = "effective_rank.png";
    public static final double MIN_RANK = 2, DROP = 0.5, MIN_TARGET_STD = 0.1, MIN_PRED_STD = 0.01, PROBE_DRIFT = 0.03,
            MAX_TEACHER_DISTANCE = 0.5, MAX_POSITION_SHARE = 0.7;

    private final List<Snapshot> snapshots = new ArrayList<>();

    public void add(Snapshot s) { snapshots.add(s); }

    public List<Snapshot> snapshots() { return List.copyOf(snapshots); }

    /** Warnings of the latest snapshot against the first one and the thresholds; empty when all is well. */
    public List<String> warningsAtLatest() {
        return snapshots.isEmpty() ? List.of() : warnings(snapshots.size() - 1);
    }

    /** Every warning of the run, each once, with the step it first appeared at. */
    public List<String> warnings() {
        List<String> out = new ArrayList<>(), seen = new ArrayList<>();
        for (int i = 0; i < snapshots.size(); i++) {
            for (String w : warnings(i)) {
                String kind = w.substring(0, w.indexOf(':'));
                if (seen.contains(kind)) continue;
                seen.add(kind);
                out.add("step " + snapshots.get(i).step() + ": " + w);
            }
        }
        return out;
    }

    private List<String> warnings(int i) {
        Snapshot s = snapshots.get(i), f = snapshots.get(0);
        List<String> w = new ArrayList<>();
        if (s.featureRank() < MIN_RANK || (i > 0 && s.featureRank() < DROP * f.featureRank())) {
            w.add(String.format(Locale.ROOT, "features collapse: effective rank of the pooled features %.2f (first %.2f)", s.featureRank(), f.featureRank()));
        }
        if (s.targetStd() < MIN_TARGET_STD || (i > 0 && s.targetStd() < DROP * f.targetStd())) {
            w.add(String.format(Locale.ROOT, "targets collapse: target std %.3f (first %.3f, minimum %.2f)", s.targetStd(), f.targetStd(), MIN_TARGET_STD));
        }
        if (i > 0 && s.targetRank() < DROP * f.targetRank()) {
            w.add(String.format(Locale.ROOT, "target rank collapse: effective rank of the targets %.2f (first %.2f)", s.targetRank(), f.targetRank()));
        }
        if (s.positionShare() > MAX_POSITION_SHARE) {
            w.add(String.format(Locale.ROOT, "positional targets: position alone explains %.2f of the targets' spread on a pretraining batch (first %.2f, limit %.2f)",
                    s.positionShare(), f.positionShare(), MAX_POSITION_SHARE));
        }
        if (s.predStd() < MIN_PRED_STD) {
            w.add(String.format(Locale.ROOT, "predictions collapse: prediction std at masked positions %.4f (minimum %.2f)", s.predStd(), MIN_PRED_STD));
        }
        if (i > 0 && Double.isFinite(s.probe()) && Double.isFinite(f.probe()) && s.probe() <= f.probe() - PROBE_DRIFT) {
            w.add(String.format(Locale.ROOT, "probe drifts below its start: quick probe %.4f, %.1f points under step %d's %.4f", s.probe(),
                    100 * (f.probe() - s.probe()), f.step(), f.probe()));
        }
        double best = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < i; j++) if (Double.isFinite(snapshots.get(j).probe())) best = Math.max(best, snapshots.get(j).probe());
        if (Double.isFinite(s.probe()) && s.probe() <= best - PROBE_DRIFT) {
            w.add(String.format(Locale.ROOT, "probe past its peak: quick probe %.4f, %.1f points under its best so far %.4f", s.probe(),
                    100 * (best - s.probe()), best));
        }
        if (s.teacherDistance() > MAX_TEACHER_DISTANCE) {
            w.add(String.format(Locale.ROOT, "teacher drift: teacher-student distance %.3f (relative L2, limit %.2f)", s.teacherDistance(), MAX_TEACHER_DISTANCE));
        }
        return w;
    }

    /** The report section: the table over time, the per-layer table, the warnings. */
    public String markdown() {
        StringBuilder b = new StringBuilder("## Diagnostics\n\n");
        if (snapshots.isEmpty()) return b.append("None measured.\n").toString();
        b.append("Measured at each quick-probe point on fixed held-out inputs (docs/evaluation.md, \"Diagnostics\"): target std "
                + "(fairseq's compute_var over the held-out tokens), effective ranks (exp of the entropy of the normalised singular values), "
                + "the decoder's prediction at masked positions (eval mode, fixed masks), the teacher-student distance over the tracked parameters, "
                + "the share of the targets' spread that position alone explains on a fixed pretraining batch (chance: about 1 / batch size).\n\n");
        b.append("| step | quick probe | pooled-feature rank | target rank | target std | pred std (masked) | pred R² (masked) | teacher-student distance | position share of targets |\n");
        b.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Snapshot s : snapshots) {
            b.append(String.format(Locale.ROOT, "| %d | %.4f | %.2f | %.2f | %.4f | %.4f | %.3f | %.4f | %.3f |\n", s.step(), s.probe(), s.featureRank(),
                    s.targetRank(), s.targetStd(), s.predStd(), s.predR2(), s.teacherDistance(), s.positionShare()));
        }
        b.append("\nThe teacher's target layers (FFN outputs; variance over positions and over channels, before and after the instance norm over positions):\n\n");
        b.append("| step | block | var over positions | var over channels | after IN: var over positions | after IN: var over channels |\n|---|---|---|---|---|---|\n");
        for (Snapshot s : snapshots) {
            for (Snapshot.Layer l : s.layers()) {
                b.append(String.format(Locale.ROOT, "| %d | %d | %.4g | %.4g | %.4f | %.4f |\n", s.step(), l.block(), l.rawOverPositions(),
                        l.rawOverChannels(), l.normOverPositions(), l.normOverChannels()));
            }
        }
        List<String> w = warnings();
        b.append("\n").append(w.isEmpty() ? "No warnings: no collapse or drift by the thresholds of docs/evaluation.md.\n" : "Warnings:\n\n");
        for (String line : w) b.append("- **warning**, ").append(line).append('\n');
        b.append("\nFigures: `").append(CHART).append("` (probe, fit, spreads and distances against the step), `").append(RANKS)
                .append("` (effective ranks); numbers in `").append(CSV).append("`.\n");
        return b.toString();
    }

    public void writeCsv(Path out) throws IOException {
        StringBuilder b = new StringBuilder("step,probe,feature_rank,target_rank,target_std,pred_std,pred_r2,teacher_distance,position_share");
        int k = snapshots.isEmpty() ? 0 : snapshots.get(0).layers().size();
        for (int i = 0; i < k; i++) {
            int block = snapshots.get(0).layers().get(i).block();
            b.append(String.format(Locale.ROOT, ",b%d_var_pos,b%d_var_ch,b%d_in_var_pos,b%d_in_var_ch", block, block, block, block));
        }
        b.append('\n');
        for (Snapshot s : snapshots) {
            b.append(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", s.step(), s.probe(), s.featureRank(), s.targetRank(),
                    s.targetStd(), s.predStd(), s.predR2(), s.teacherDistance(), s.positionShare()));
            for (Snapshot.Layer l : s.layers()) {
                b.append(String.format(Locale.ROOT, ",%.6g,%.6g,%.6g,%.6g", l.rawOverPositions(), l.rawOverChannels(), l.normOverPositions(), l.normOverChannels()));
            }
            b.append('\n');
        }
        Files.writeString(out, b);
    }

    /** diagnostics.png (the quantities that live on a 0–1 scale) and effective_rank.png, into {@code dir}. */
    public void plot(Path dir, String title) throws IOException {
        if (snapshots.isEmpty()) return;
        List<Charts.Series> unit = new ArrayList<>();
        unit.add(series("quick probe", Snapshot::probe));
        unit.add(series("pred R² (masked)", Snapshot::predR2));
        unit.add(series("pred std / target std", s -> s.predStd() / s.targetStd()));
        unit.add(series("teacher-student distance", Snapshot::teacherDistance));
        if (Double.isFinite(snapshots.get(0).positionShare())) unit.add(series("position share of targets", Snapshot::positionShare));
        int top = snapshots.get(0).layers().size() - 1;
        if (top >= 0) unit.add(series("top layer after IN: var over channels", s -> s.layers().get(top).normOverChannels()));
        Charts.lines(dir.resolve(CHART), title + ": diagnostics on held-out inputs", "pretraining step", "value", unit);
        List<Charts.Series> ranks = List.of(series("pooled features", Snapshot::featureRank), series("targets (per token)", Snapshot::targetRank));
        Charts.lines(dir.resolve(RANKS), title + ": effective rank on held-out inputs", "pretraining step", "effective rank", ranks);
    }

    private Charts.Series series(String name, ToDoubleFunction<Snapshot> f) {
        double[] x = new double[snapshots.size()], y = new double[snapshots.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = snapshots.get(i).step();
            y[i] = f.applyAsDouble(snapshots.get(i));
        }
        return new Charts.Series(name, x, y, true);
    }
}
