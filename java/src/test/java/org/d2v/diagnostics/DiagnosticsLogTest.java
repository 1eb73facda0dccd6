package org.d2v.diagnostics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiagnosticsLogTest {
    private static Snapshot snap(long step, double featureRank, double targetStd, double targetRank, double predStd, double dist, double probe) {
        return new Snapshot(step, List.of(new Snapshot.Layer(2, 0.5, 0.4, 1.0, 0.9)), targetStd, targetRank, predStd, 0.3, featureRank, dist,
                dist > 0.6 ? 0.9 : 0.2, probe);
    }

    @Test
    void aHealthyRunRaisesNoWarning() {
        DiagnosticsLog log = new DiagnosticsLog();
        log.add(snap(0, 60, 0.6, 50, 0.02, 0, 0.60));
        log.add(snap(100, 55, 0.55, 45, 0.3, 0.05, 0.62));
        log.add(snap(200, 50, 0.5, 40, 0.35, 0.08, 0.61));
        assertEquals(List.of(), log.warnings());
        assertTrue(log.markdown().contains("No warnings"), log.markdown());
    }

    @Test
    void collapseAndDriftAreNamedOnceWithTheirFirstStep() {
        DiagnosticsLog log = new DiagnosticsLog();
        log.add(snap(0, 60, 0.6, 50, 0.02, 0, 0.60));
        log.add(snap(100, 20, 0.25, 40, 0.3, 0.1, 0.64));  // features at a third of their rank, targets under half their std
        log.add(snap(200, 1.5, 0.05, 10, 0.005, 0.7, 0.56)); // everything collapses, the probe falls, the teacher is far away
        List<String> w = log.warnings();
        assertTrue(w.get(0).startsWith("step 100: features collapse"), w.toString());
        assertTrue(w.get(1).startsWith("step 100: targets collapse"), w.toString());
        for (String kind : List.of("target rank collapse", "positional targets", "predictions collapse", "probe drifts below its start", "probe past its peak", "teacher drift")) {
            assertEquals(1, w.stream().filter(s -> s.startsWith("step 200: " + kind)).count(), kind + " in " + w);
        }
        assertEquals(8, w.size(), w.toString());
        assertEquals(8, log.warningsAtLatest().size(), "every check fails at the last step: " + log.warningsAtLatest());
    }

    @Test
    void writesTheCsvAndTheCharts(@TempDir Path dir) throws Exception {
        DiagnosticsLog log = new DiagnosticsLog();
        log.add(snap(0, 60, 0.6, 50, 0.02, 0, 0.60));
        log.add(snap(100, 55, 0.55, 45, 0.3, 0.05, 0.62));
        log.writeCsv(dir.resolve(DiagnosticsLog.CSV));
        log.plot(dir, "test");
        List<String> csv = Files.readAllLines(dir.resolve(DiagnosticsLog.CSV));
        assertEquals(3, csv.size());
        assertTrue(csv.get(0).endsWith("b2_var_pos,b2_var_ch,b2_in_var_pos,b2_in_var_ch"), csv.get(0));
        double[] row = java.util.Arrays.stream(csv.get(2).split(",")).mapToDouble(Double::parseDouble).toArray();
        assertArrayEquals(new double[] {100, 0.62, 55, 45, 0.55, 0.3, 0.3, 0.05, 0.2, 0.5, 0.4, 1, 0.9}, row, 1e-9, csv.get(2));
        assertTrue(Files.size(dir.resolve(DiagnosticsLog.CHART)) > 1000 && Files.size(dir.resolve(DiagnosticsLog.RANKS)) > 1000);
    }
}
