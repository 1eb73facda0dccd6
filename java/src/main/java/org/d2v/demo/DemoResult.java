package org.d2v.demo;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one demo run measured, as the report shows it.
 *
 * @param backendSecondsPerStep calibration: seconds per pretraining step on each backend tried
 * @param curve                 quick probes (subset) against pretraining time, starting at 0 s
 * @param lossStart             mean loss of the first few steps; {@code lossEnd} of the last few
 */
public record DemoResult(String preset, String modelSummary, String backend, String deviceName,
                         Map<String, Double> backendSecondsPerStep, long steps, int batchSize, int clones,
                         double budgetSeconds, double pretrainSeconds, double samplesPerSecond,
                         double lossStart, double lossEnd, List<CurvePoint> curve,
                         Probe.Outcome pretrained, Probe.Outcome randomInit, Probe.Outcome rawPixels,
                         double totalSeconds, List<String> notes) {
    /** A quick probe after {@code step} updates and {@code seconds} of pretraining. */
    public record CurvePoint(long step, double seconds, Probe.Outcome probe) {}

    public DemoResult {
        backendSecondsPerStep = Collections.unmodifiableMap(new LinkedHashMap<>(backendSecondsPerStep));
        curve = List.copyOf(curve);
        notes = List.copyOf(notes);
    }

    /** Pretrained minus random-init test accuracy, in points. */
    public double gainOverRandomPoints() { return 100 * (pretrained.testAccuracy() - randomInit.testAccuracy()); }

    /** The bar: above the raw-pixel floor and at least 5 points above random init. */
    public boolean meetsBar(double floor) {
        // 1e-9: exactly 5 points (e.g. 0.84 vs 0.79) must count although 0.84 − 0.79 < 0.05 in binary.
        return pretrained.testAccuracy() > floor && pretrained.testAccuracy() - randomInit.testAccuracy() >= 0.05 - 1e-9;
    }
}
