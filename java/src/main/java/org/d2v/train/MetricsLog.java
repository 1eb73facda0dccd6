package org.d2v.train;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
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
 * crashed run keeps what it measured, and synced before each checkpoint so that a checkpoint's
 * history is on disk when the checkpoint is. metrics.jsonl is the run's history: a resume reads
 * it back ({@link #history}) and first rewrites both files (atomically) with the rows up to the
 * checkpoint, dropping rows of steps that the resumed run will redo.
 */
final class MetricsLog implements AutoCloseable {
    static final String JSONL = "metrics.jsonl", CSV = "metrics.csv";

    private final Path runDir;
    private final List<MetricsRow> rows;
    private final FileChannel jsonlFile, csvFile;
    private final OutputStream jsonl, csv;

    private MetricsLog(Path runDir, List<MetricsRow> rows) throws IOException {
        this.runDir = runDir;
        this.rows = new ArrayList<>(rows);
        rewrite(runDir.resolve(JSONL), null, rows, true);
        rewrite(runDir.resolve(CSV), MetricsRow.CSV_HEADER, rows, false);
        this.jsonlFile = FileChannel.open(runDir.resolve(JSONL), StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        this.csvFile = FileChannel.open(runDir.resolve(CSV), StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        this.jsonl = Channels.newOutputStream(jsonlFile);
        this.csv = Channels.newOutputStream(csvFile);
    }

    /** Starts both files over, holding {@code rows} (empty for a new run). */
    static MetricsLog open(Path runDir, List<MetricsRow> rows) throws IOException { return new MetricsLog(runDir, rows); }

    private static void rewrite(Path file, String header, List<MetricsRow> rows, boolean json) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        StringBuilder text = new StringBuilder();
        if (header != null) text.append(header).append('\n');
        for (MetricsRow r : rows) text.append(json ? r.toJsonLine() : r.toCsvLine()).append('\n');
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw WriteFailure.of(file, "the metrics history (" + rows.size() + " rows)", e, bytes.length);
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Appends one row to both files (each line in one write, so a crash tears at most the last line). */
    void append(MetricsRow r) throws IOException {
        rows.add(r);
        byte[] json = (r.toJsonLine() + "\n").getBytes(StandardCharsets.UTF_8), line = (r.toCsvLine() + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            jsonl.write(json);
        } catch (IOException e) {
            throw WriteFailure.of(runDir.resolve(JSONL), "the metrics row of step " + r.step(), e, json.length);
        }
        try {
            csv.write(line);
        } catch (IOException e) {
            throw WriteFailure.of(runDir.resolve(CSV), "the metrics row of step " + r.step(), e, line.length);
        }
    }

    /** Forces both files to disk (before a checkpoint is written, so its history survives with it). */
    void sync() throws IOException {
        try {
            jsonlFile.force(false);
            csvFile.force(false);
        } catch (IOException e) {
            throw WriteFailure.of(runDir, "the metrics files (syncing them to disk)", e, 0);
        }
    }

    /** Every row so far (a copy). */
    List<MetricsRow> rows() { return List.copyOf(rows); }

    /**
     * The metrics history of a run up to checkpoint {@code c}: rows of steps 1..c.step(), in order.
     * From metrics.jsonl, where a torn last line (a crash in the middle of a write) and rows after
     * the checkpoint (steps that the resumed run will redo) are dropped; any other damage — a bad
     * line before the last, a missing or repeated step — is an error naming the file and line,
     * found before anything is changed. Format 1 checkpoints carry their history in the manifest.
     */
    static List<MetricsRow> history(Path runDir, Checkpoint c) throws IOException {
        long last = c.manifest().step();
        if (c.manifest().formatVersion() == CheckpointManifest.FORMAT_WITH_METRICS) {
            Path manifest = c.dir().resolve(Checkpoint.MANIFEST);
            try {
                return upTo(CheckpointManifest.embeddedMetrics(Files.readString(manifest, StandardCharsets.UTF_8)), last, manifest);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(manifest, "bad metrics: " + e.getMessage());
            }
        }
        Path file = runDir.resolve(JSONL);
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "missing: the run's metrics history is needed to resume it");
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1); // the last element is what follows the last newline: "" or a torn line
        List<MetricsRow> rows = new ArrayList<>();
        for (int i = 0; i < lines.length - 1 && rows.size() < last; i++) {
            if (lines[i].isBlank()) continue;
            MetricsRow r;
            try {
                if (!(Json.parse(lines[i]) instanceof java.util.Map<?, ?> m)) throw new IllegalArgumentException("not a JSON object");
                r = MetricsRow.fromMap(m);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "line " + (i + 1) + ": " + e.getMessage());
            }
            rows.add(r);
        }
        return upTo(rows, last, file);
    }

    /** {@code rows} if they are exactly steps 1..last. */
    private static List<MetricsRow> upTo(List<MetricsRow> rows, long last, Path file) throws CheckpointException {
        // Rows after the checkpoint: the resumed run redoes those steps.
        List<MetricsRow> kept = rows.stream().filter(r -> r.step() <= last).toList();
        for (int i = 0; i < kept.size(); i++) {
            if (kept.get(i).step() != i + 1) {
                throw new CheckpointException(file, "row " + (i + 1) + " is for step " + kept.get(i).step() + ", expected step " + (i + 1));
            }
        }
        if (kept.size() != last) throw new CheckpointException(file, "holds steps 1.." + kept.size() + ", the checkpoint is at step " + last);
        return kept;
    }

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
            jsonlFile.close();
        } finally {
            csvFile.close();
        }
    }
}
