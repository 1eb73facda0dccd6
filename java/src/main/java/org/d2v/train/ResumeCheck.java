package org.d2v.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a run folder must be before a run touches it.
 *
 * <p>A new run needs a folder without checkpoints (complete, partial, or a {@code latest} pointer)
 * and without metrics: anything else would mix two runs in one folder. A resume takes the
 * checkpoint {@code latest} names or, when there is no {@code latest} (a run killed during its first
 * save, between renaming the checkpoint into place and writing the pointer), the newest complete
 * checkpoint, saying so; it loads and validates that checkpoint completely (manifest, size, sha256,
 * finite values) and the metrics history up to it, so that a resume which cannot go on stops
 * before anything in the folder changed.
 */
public final class ResumeCheck {
    /** A validated place to resume from: the checkpoint and the metrics rows of steps 1..its step. */
    public record Point(Checkpoint checkpoint, List<MetricsRow> history) {}

    private ResumeCheck() {}

    /**
     * Why {@code runDir} cannot take a new run ("holds checkpoint-2 and latest", "holds a partial
     * checkpoint ..."), or null when it can (it does not exist, or holds none of a run's files).
     */
    public static String inUse(Path runDir) throws IOException {
        if (!Files.exists(runDir)) {
            for (Path p = runDir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
                if (Files.isDirectory(p)) return null;
                if (Files.exists(p)) return "cannot be created: " + p + " is a file, not a folder";
            }
            return null;
        }
        if (!Files.isDirectory(runDir)) return "is a file, not a folder";
        List<String> complete = new ArrayList<>(), partial = new ArrayList<>(), metrics = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runDir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (Checkpoint.isTemporary(name)) partial.add(name);
                else if (Checkpoint.isCheckpointName(name) || name.equals(Checkpoint.LATEST)) complete.add(name);
                else if (name.equals(MetricsLog.JSONL) || name.equals(MetricsLog.CSV)) metrics.add(name);
            }
        }
        if (!complete.isEmpty()) return "already holds a run (" + String.join(", ", sorted(complete)) + ")";
        if (!partial.isEmpty()) {
            return "holds a partial checkpoint (" + String.join(", ", sorted(partial)) + ": a run was killed while saving)";
        }
        if (!metrics.isEmpty()) return "holds the metrics of an earlier run (" + String.join(", ", sorted(metrics)) + ")";
        return null;
    }

    private static List<String> sorted(List<String> names) {
        List<String> out = new ArrayList<>(names);
        out.sort(null);
        return out;
    }

    /**
     * The checkpoint a resume of {@code runDir} continues from, fully validated: the one
     * {@code latest} names, or the newest complete one when there is no {@code latest} (a note on
     * {@code notes} says so). Nothing is written, not even the missing pointer.
     */
    public static Checkpoint checkpoint(Path runDir, PrintStream notes) throws IOException {
        if (!Files.isDirectory(runDir)) {
            throw new CheckpointException(runDir, Files.exists(runDir) ? "is a file, not a run folder" : "run folder does not exist");
        }
        Path pointer = runDir.resolve(Checkpoint.LATEST);
        if (Files.exists(pointer)) return Checkpoint.load(Checkpoint.latest(runDir));
        List<String> rejected = new ArrayList<>();
        for (long step : Checkpoint.steps(runDir)) {
            Path dir = runDir.resolve(Checkpoint.folderName(step));
            try {
                Checkpoint c = Checkpoint.load(dir);
                notes.println("note: " + runDir + " has no '" + Checkpoint.LATEST + "' pointer (a run killed during a save leaves none); using "
                        + dir.getFileName() + ", its newest complete checkpoint" + (rejected.isEmpty() ? "" : " (not: " + String.join("; ", rejected) + ")"));
                return c;
            } catch (CheckpointException e) {
                rejected.add(e.getMessage());
            }
        }
        String why = rejected.isEmpty() ? "this run folder has no complete checkpoint" : "and no complete checkpoint to use instead: " + String.join("; ", rejected);
        String partial = inUse(runDir);
        throw new CheckpointException(pointer, "no '" + Checkpoint.LATEST + "' pointer: " + why
                + (partial != null && partial.startsWith("holds a partial") ? " (the folder " + partial + ")" : ""));
    }

    /**
     * Everything a resume of {@code runDir} reads, validated before anything changes: the
     * checkpoint ({@link #checkpoint}), that it was trained with this modality and preset, and the
     * metrics history up to it.
     */
    public static Point validate(Path runDir, String modality, String preset, PrintStream notes) throws IOException {
        return validate(checkpoint(runDir, notes), runDir, modality, preset);
    }

    /** {@link #validate(Path, String, String, PrintStream)} of a checkpoint {@link #checkpoint} already found and loaded. */
    public static Point validate(Checkpoint c, Path runDir, String modality, String preset) throws IOException {
        CheckpointManifest m = c.manifest();
        checkSame("modality", m.modality(), modality, c.dir());
        checkSame("preset", m.preset(), preset, c.dir());
        return new Point(c, MetricsLog.history(runDir, c));
    }

    private static void checkSame(String what, String saved, String now, Path dir) throws CheckpointException {
        if (!saved.equals(now)) {
            throw new CheckpointException(dir, "was trained with " + what + " '" + saved + "', this run uses '" + now + "'");
        }
    }
}
