package org.d2v.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.json.Json;

/**
 * Everything besides the tensors that a resume needs, stored as manifest.json next to them: the
 * step, what was trained (preset, modality, backend, options), where the random stream and the
 * data source stood after this step, the metrics so far, and the checksum of the tensor file.
 */
public record CheckpointManifest(int formatVersion, long step, long totalSteps, String preset, String modality,
                                 String backend, long seed, long rngPosition, long dataPosition,
                                 Map<String, String> config, List<MetricsRow> metrics, String tensorsSha256,
                                 long tensorsBytes) {
    public static final int FORMAT_VERSION = 1;

    public CheckpointManifest {
        config = Map.copyOf(config);
        metrics = List.copyOf(metrics);
    }

    CheckpointManifest withTensors(String sha256, long bytes) {
        return new CheckpointManifest(formatVersion, step, totalSteps, preset, modality, backend, seed, rngPosition,
                dataPosition, config, metrics, sha256, bytes);
    }

    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format_version", (long) formatVersion);
        m.put("step", step);
        m.put("total_steps", totalSteps);
        m.put("preset", preset);
        m.put("modality", modality);
        m.put("backend", backend);
        m.put("seed", seed);
        m.put("rng_position", rngPosition);
        m.put("data_position", dataPosition);
        m.put("config", new java.util.TreeMap<>(config));
        List<Object> rows = new ArrayList<>();
        for (MetricsRow r : metrics) rows.add(r.toMap());
        m.put("metrics", rows);
        m.put("tensors_sha256", tensorsSha256);
        m.put("tensors_bytes", tensorsBytes);
        return Json.write(m);
    }

    /** Parses manifest.json text; throws IllegalArgumentException naming the first field that is wrong. */
    static CheckpointManifest parse(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) throw new IllegalArgumentException("not a JSON object");
        Map<String, String> config = new LinkedHashMap<>();
        if (!(m.get("config") instanceof Map<?, ?> c)) throw new IllegalArgumentException("field 'config' is missing or not an object");
        c.forEach((k, v) -> config.put(String.valueOf(k), String.valueOf(v)));
        if (!(m.get("metrics") instanceof List<?> rows)) throw new IllegalArgumentException("field 'metrics' is missing or not a list");
        List<MetricsRow> metrics = new ArrayList<>();
        for (Object r : rows) {
            if (!(r instanceof Map<?, ?> rm)) throw new IllegalArgumentException("a metrics entry is not an object");
            metrics.add(MetricsRow.fromMap(rm));
        }
        return new CheckpointManifest((int) integer(m, "format_version"), integer(m, "step"), integer(m, "total_steps"),
                text(m, "preset"), text(m, "modality"), text(m, "backend"), integer(m, "seed"), integer(m, "rng_position"),
                integer(m, "data_position"), config, metrics, text(m, "tensors_sha256"), integer(m, "tensors_bytes"));
    }

    private static long integer(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Long v)) throw new IllegalArgumentException("field '" + key + "' is missing or not an integer");
        return v;
    }

    private static String text(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof String v)) throw new IllegalArgumentException("field '" + key + "' is missing or not a string");
        return v;
    }
}
