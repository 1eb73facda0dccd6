package org.d2v.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.d2v.json.Json;

/** One line of metrics.jsonl / metrics.csv: what step {@code step} reported, plus throughput. */
public record MetricsRow(long step, double lr, double loss, double regression, double cls, double targetStd,
                         double predStd, double gradNorm, double samplesPerSec, double tokensPerSec, double elapsedSec) {

    static final String CSV_HEADER = "step,lr,loss,regression,cls,target_std,pred_std,grad_norm,samples_per_s,tokens_per_s,elapsed_s";

    /** The row of a step, written whether or not its checks passed (a failing step's row is kept). */
    static MetricsRow of(long step, double lr, StepStats s, double seconds, double elapsed) {
        double sps = seconds > 0 ? s.samples() / seconds : 0, tps = seconds > 0 ? s.tokens() / seconds : 0;
        StepStats.Values v = s.values();
        return new MetricsRow(step, lr, v.loss(), v.regression(), v.cls(), v.targetStd(), v.predStd(), v.gradNorm(), sps, tps, elapsed);
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("lr", lr);
        m.put("loss", loss);
        m.put("regression", regression);
        m.put("cls", cls);
        m.put("target_std", targetStd);
        m.put("pred_std", predStd);
        m.put("grad_norm", gradNorm);
        m.put("samples_per_s", samplesPerSec);
        m.put("tokens_per_s", tokensPerSec);
        m.put("elapsed_s", elapsedSec);
        return m;
    }

    static MetricsRow fromMap(Map<?, ?> m) {
        if (!(m.get("step") instanceof Long step)) throw new IllegalArgumentException("metrics row lacks an integer 'step'");
        return new MetricsRow(step, num(m, "lr"), num(m, "loss"), num(m, "regression"),
                num(m, "cls"), num(m, "target_std"), num(m, "pred_std"), num(m, "grad_norm"), num(m, "samples_per_s"),
                num(m, "tokens_per_s"), num(m, "elapsed_s"));
    }

    private static double num(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null && !m.containsKey(key)) throw new IllegalArgumentException("metrics row lacks '" + key + "'");
        if (v != null && !(v instanceof Number)) throw new IllegalArgumentException("metrics field '" + key + "' is not a number");
        return v == null ? Double.NaN : ((Number) v).doubleValue();
    }

    String toJsonLine() { return Json.write(toMap()); }

    String toCsvLine() {
        return String.format(Locale.ROOT, "%d,%.6e,%.9g,%.9g,%.9g,%.6g,%.6g,%.6g,%.3f,%.3f,%.3f", step, lr, loss, regression,
                cls, targetStd, predStd, gradNorm, samplesPerSec, tokensPerSec, elapsedSec);
    }
}
