package org.d2v.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.d2v.diagnostics.Diagnostics;
import org.d2v.diagnostics.DiagnosticsLog;
import org.d2v.diagnostics.Snapshot;
import org.d2v.eval.ProbeTask;

/**
 * A demo run's diagnostics ({@link Diagnostics}) at each quick-probe point, on the quick probe's
 * held-out test examples: measured in a separate evaluation pass, warnings printed as they
 * appear, and at the end a section appended to report.md with its CSV and charts. Models other
 * than data2vec 2.0 (tests' stand-ins) get none.
 */
final class RunDiagnostics {
    private final org.d2v.data2vec.Data2Vec model;
    private final Diagnostics diagnostics;
    private final DiagnosticsLog log = new DiagnosticsLog();
    private final PrintStream out;

    private RunDiagnostics(org.d2v.data2vec.Data2Vec model, Diagnostics diagnostics, PrintStream out) {
        this.model = model;
        this.diagnostics = diagnostics;
        this.out = out;
    }

    /** {@code positionBatch}: a fixed pretraining batch for the targets' position share (null: none). */
    static RunDiagnostics of(FeatureModel model, ProbeTask quick, long seed, org.d2v.data2vec.Batch positionBatch, PrintStream out) {
        return new RunDiagnostics(model.data2vec(), new Diagnostics(quick.test(), seed + 0x5eed, positionBatch), out);
    }

    DiagnosticsLog log() { return log; }

    void measure(long step, double probeAccuracy) {
        if (model == null) return;
        long t0 = System.nanoTime();
        Snapshot s = diagnostics.measure(model, step).withProbe(probeAccuracy);
        log.add(s);
        out.printf(Locale.ROOT, "  diagnostics, step %d: feature rank %.2f, target rank %.2f, target std %.4f, pred std %.4f, pred R² %.3f, "
                        + "teacher-student %.4f, position share %.3f (%.1f s)%n", step, s.featureRank(), s.targetRank(), s.targetStd(), s.predStd(), s.predR2(),
                s.teacherDistance(), s.positionShare(), (System.nanoTime() - t0) / 1e9);
        for (String w : log.warningsAtLatest()) out.println("  warning: " + w);
    }

    /** Appends the section to the run's report.md and writes the CSV and the charts. */
    void write(Path runDir, String title) throws IOException {
        if (model == null) return;
        log.writeCsv(runDir.resolve(DiagnosticsLog.CSV));
        try {
            log.plot(runDir, title);
        } catch (IOException | RuntimeException | LinkageError e) {
            out.println("warning: could not draw the diagnostics charts: " + e);
        }
        Files.writeString(runDir.resolve(Report.MARKDOWN), "\n" + log.markdown(), StandardOpenOption.APPEND);
    }
}
