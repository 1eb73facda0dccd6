package org.d2v.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.d2v.json.Json;

/**
 * metrics.jsonl and metrics.csv of a run folder, one row per step, flushed as they come so a
 * crashed run keeps what it measured. A resume first rewrites both files from the checkpoint's
 * rows, dropping rows of steps that the resumed run will redo.
 */
final class MetricsLog implements AutoCloseable {
    static final String JSONL = "metrics.jsonl", CSV = "metrics.csv";

    private final List<MetricsRow> rows;
    private final BufferedWriter jsonl, csv;

    private MetricsLog(Path runDir, List<MetricsRow> rows) throws IOException {
        this.rows = new ArrayList<>(rows);
        rewrite(runDir.resolve(JSONL), null, rows, true);
        rewrite(runDir.resolve(CSV), MetricsRow.CSV_HEADER, rows, false);
        this.jsonl = Files.newBufferedWriter(runDir.resolve(JSONL), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        this.csv = Files.newBufferedWriter(runDir.resolve(CSV), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /** Starts both files over, holding {@code rows} (empty for a new run). */
    static MetricsLog open(Path runDir, List<MetricsRow> rows) throws IOException { return new MetricsLog(runDir, rows); }

    private static void rewrite(Path file, String header, List<MetricsRow> rows, boolean json) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
            if (header != null) w.write(header + "\n");
            for (MetricsRow r : rows) w.write((json ? r.toJsonLine() : r.toCsvLine()) + "\n");
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    void append(MetricsRow r) throws IOException {
        rows.add(r);
        jsonl.write(r.toJsonLine() + "\n");
        jsonl.flush();
        csv.write(r.toCsvLine() + "\n");
        csv.flush();
    }

    /** Every row so far (a copy). */
    List<MetricsRow> rows() { return List.copyOf(rows); }

    /** Reads metrics.jsonl back (for tests and tools). */
    static List<MetricsRow> read(Path runDir) throws IOException {
        List<MetricsRow> out = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve(JSONL), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) out.add(MetricsRow.fromMap((java.util.Map<?, ?>) Json.parse(line)));
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            jsonl.close();
        } finally {
            csv.close();
        }
    }
}
