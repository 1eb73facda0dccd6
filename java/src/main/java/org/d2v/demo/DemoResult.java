package org.d2v.demo;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.eval.ProbeTask;

/**
 * Everything one demo run measured, as the report shows it.
 *
 * @param backendSecondsPerStep calibration: seconds per pretraining step on each backend tried
 * @param curve                 quick probes of the first task (a subset) against pretraining time, from 0 s
 * @param lossStart             mean loss of the first few steps; {@code lossEnd} of the last few
 * @param figures               one line per figure written into the run folder (file name and what it shows)
 */
public record DemoResult(String data, String preset, String modelSummary, String backend, String deviceName,
                         Map<String, Double> backendSecondsPerStep, long steps, int batchSize, int clones,
                         double budgetSeconds, double pretrainSeconds, double samplesPerSecond,
                         double lossStart, double lossEnd, List<CurvePoint> curve, List<TaskResult> tasks,
                         List<String> figures, double totalSeconds, List<String> notes) {
    /** A quick probe after {@code step} updates and {@code seconds} of pretraining. */
    public record CurvePoint(long step, double seconds, Probe.Outcome probe) {}

    /** One task's three probes (pretrained, same model at random init, raw features) and its bar. */
    public record TaskResult(String task, String bar, double floor, Probe.Outcome pretrained, Probe.Outcome randomInit, Probe.Outcome raw,
                             boolean met) {
        public static TaskResult of(ProbeTask t, Probe.Outcome pretrained, Probe.Outcome randomInit, Probe.Outcome raw) {
            return new TaskResult(t.name(), t.describeBar(), t.floorGiven(raw.testAccuracy()), pretrained, randomInit, raw,
                    t.meetsBar(pretrained.testAccuracy(), randomInit.testAccuracy(), raw.testAccuracy()));
        }

        /** Pretrained minus random-init test accuracy, in points. */
        public double gainOverRandomPoints() { return 100 * (pretrained.testAccuracy() - randomInit.testAccuracy()); }
    }

    public DemoResult {
        if (tasks.isEmpty()) throw new IllegalArgumentException("a demo result needs at least one task");
        backendSecondsPerStep = Collections.unmodifiableMap(new LinkedHashMap<>(backendSecondsPerStep));
        curve = List.copyOf(curve);
        tasks = List.copyOf(tasks);
        figures = List.copyOf(figures);
        notes = List.copyOf(notes);
    }

    /** The first (main) task's result. */
    public TaskResult first() { return tasks.get(0); }

    /** Every task's bar is met. */
    public boolean meetsBar() { return tasks.stream().allMatch(TaskResult::met); }
}
