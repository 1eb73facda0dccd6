package org.d2v.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.json.Json;

/**
 * Everything besides the tensors that a resume needs, stored as manifest.json next to them: the
 * step, what was trained (preset, modality, backend, options), where the random stream and the
 * data source stood after this step (format 3: in global samples; 2 and 1: in batches), and the
 * checksum of the tensor file. The metrics history
 * lives in the run's metrics.jsonl (format 1 manifests embedded it, growing every step; they are
 * still read, see {@link #embeddedMetrics}).
 */
public record CheckpointManifest(int formatVersion, long step, long totalSteps, String preset, String modality,
                                 String backend, long seed, long rngPosition, long dataPosition,
                                 Map<String, String> config, String tensorsSha256, long tensorsBytes) {
    public static final int FORMAT_VERSION = 3;
    /** From this format on the data position counts global samples (before: batches served). */
    public static final int FORMAT_SAMPLE_POSITIONS = 3;
    /** The first format: as 2, plus every metrics row so far in the field "metrics". */
    static final int FORMAT_WITH_METRICS = 1;

    public CheckpointManifest {
        config = Map.copyOf(config);
    }

    CheckpointManifest withTensors(String sha256, long bytes) {
        return new CheckpointManifest(formatVersion, step, totalSteps, preset, modality, backend, seed, rngPosition,
                dataPosition, config, sha256, bytes);
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
        m.put("tensors_sha256", tensorsSha256);
        m.put("tensors_bytes", tensorsBytes);
        return Json.write(m);
    }

    /** Parses manifest.json text; throws IllegalArgumentException naming the first field that is wrong. */
    static CheckpointManifest parse(String json) {
        Map<?, ?> m = object(json);
        Map<String, String> config = new LinkedHashMap<>();
        if (!(m.get("config") instanceof Map<?, ?> c)) throw new IllegalArgumentException("field 'config' is missing or not an object");
        c.forEach((k, v) -> config.put(String.valueOf(k), String.valueOf(v)));
        long step = atLeast(m, "step", 0), total = atLeast(m, "total_steps", 0);
        if (total < step) throw new IllegalArgumentException("field 'total_steps' is " + total + ", below field 'step' " + step);
        String sha = text(m, "tensors_sha256");
        if (!sha.matches("[0-9a-f]{64}")) throw new IllegalArgumentException("field 'tensors_sha256' is not 64 hex digits: '" + sha + "'");
        long version = integer(m, "format_version");
        if (version != (int) version) throw new IllegalArgumentException("field 'format_version' is " + version);
        return new CheckpointManifest((int) version, step, total, text(m, "preset"), text(m, "modality"), text(m, "backend"),
                integer(m, "seed"), atLeast(m, "rng_position", 0), atLeast(m, "data_position", 0), config, sha, atLeast(m, "tensors_bytes", 8));
    }

    /** An integer field that must be at least {@code min} (positions and counts): a resume must never seek to -5. */
    private static long atLeast(Map<?, ?> m, String key, long min) {
        long v = integer(m, key);
        if (v < min) throw new IllegalArgumentException("field '" + key + "' is " + v + "; it must be >= " + min);
        return v;
    }

    /** The metrics rows a format 1 manifest embeds. */
    static List<MetricsRow> embeddedMetrics(String json) {
        if (!(object(json).get("metrics") instanceof List<?> rows)) throw new IllegalArgumentException("field 'metrics' is missing or not a list");
        List<MetricsRow> metrics = new ArrayList<>();
        for (Object r : rows) {
            if (!(r instanceof Map<?, ?> rm)) throw new IllegalArgumentException("a metrics entry is not an object");
            metrics.add(MetricsRow.fromMap(rm));
        }
        return metrics;
    }

    private static Map<?, ?> object(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) throw new IllegalArgumentException("not a JSON object");
        return m;
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
