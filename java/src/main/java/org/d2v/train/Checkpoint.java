package org.d2v.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * Checkpoints of a run folder: {@code checkpoint-<step>/} holding {@code tensors.safetensors}
 * (every tensor of {@link TrainableModel#state()}) and {@code manifest.json}
 * ({@link CheckpointManifest}), plus a {@code latest} file naming the newest complete checkpoint.
 *
 * <p>Why the dance in {@link #save}: a run killed at any moment must leave the last good checkpoint
 * loadable. Everything is written into a hidden temporary folder, fsynced (files and folder), and
 * only then renamed into place; {@code latest} is replaced by an atomic rename as well. A reader
 * therefore sees either the old checkpoint or the new one, never half of one.
 */
public final class Checkpoint {
    public static final String TENSORS = "tensors.safetensors";
    public static final String MANIFEST = "manifest.json";
    public static final String LATEST = "latest";
    private static final String PREFIX = "checkpoint-";
    private static final String TEMP_PREFIX = ".tmp-";

    private final Path dir;
    private final CheckpointManifest manifest;

    private Checkpoint(Path dir, CheckpointManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    public Path dir() { return dir; }

    public CheckpointManifest manifest() { return manifest; }

    /** The folder name of the checkpoint after {@code step}. */
    public static String folderName(long step) { return PREFIX + step; }

    /** Writes the checkpoint for {@code manifest.step()} atomically and points {@code latest} at it. */
    public static Checkpoint save(Path runDir, CheckpointManifest manifest, Map<String, Tensor> state) throws IOException {
        return save(runDir, manifest, state, name -> {});
    }

    static Checkpoint save(Path runDir, CheckpointManifest manifest, Map<String, Tensor> state, SafeTensors.WriteHook hook) throws IOException {
        Files.createDirectories(runDir);
        removeStaleTemporaries(runDir);
        String name = folderName(manifest.step());
        Path target = runDir.resolve(name);
        Path temp = runDir.resolve(TEMP_PREFIX + name + "-" + System.nanoTime());
        CheckpointManifest complete;
        try {
            Files.createDirectory(temp);
            Path tensors = temp.resolve(TENSORS);
            String sha = SafeTensors.write(tensors, state, Map.of("format", "d2v", "step", Long.toString(manifest.step())), hook);
            complete = manifest.withTensors(sha, Files.size(tensors));
            writeSynced(temp.resolve(MANIFEST), complete.toJson());
            syncDirectory(temp);
        } catch (IOException e) {
            // Nothing was published: the temporary goes (freeing the space a full disk needs), the previous checkpoint and latest stay.
            deleteQuietly(temp);
            if (e instanceof NonFiniteTensorException n) throw n.notWritten(target);
            throw WriteFailure.of(target, "the checkpoint of step " + manifest.step(), e, stateBytes(state));
        }

        if (Files.exists(target)) {
            // A stale checkpoint of the same step (from before a resume): move it aside, never delete first.
            Path old = runDir.resolve(TEMP_PREFIX + "old-" + name + "-" + System.nanoTime());
            move(target, old);
            move(temp, target);
            deleteTree(old);
        } else {
            move(temp, target);
        }
        syncDirectory(runDir);

        Path latestTemp = runDir.resolve(TEMP_PREFIX + LATEST + "-" + System.nanoTime());
        try {
            writeSynced(latestTemp, name + "\n");
        } catch (IOException e) {
            deleteQuietly(latestTemp);
            throw WriteFailure.of(runDir.resolve(LATEST), "the pointer to " + name + " (the checkpoint itself is complete)", e, 64);
        }
        move(latestTemp, runDir.resolve(LATEST));
        syncDirectory(runDir);
        return new Checkpoint(target, complete);
    }

    private static long stateBytes(Map<String, Tensor> state) {
        long n = 0;
        for (Tensor t : state.values()) n += t.numel() * t.dtype().bytes();
        return n;
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteTree(p);
        } catch (IOException ignored) {
            // best effort: the next save removes stale temporaries
        }
    }

    /**
     * Deletes all but the {@code keep} newest complete checkpoints of a run, never the one
     * {@code latest} points at. Each goes by an atomic rename to a temporary name first, so a crash
     * half-way leaves a stale temporary (removed by the next save), never a half-deleted checkpoint
     * under a real name.
     */
    public static void keepLast(Path runDir, int keep) throws IOException {
        if (keep < 1) throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        Path latest = latest(runDir);
        List<Long> steps = steps(runDir);
        for (long step : steps.subList(Math.min(keep, steps.size()), steps.size())) {
            Path dir = runDir.resolve(folderName(step));
            if (dir.equals(latest)) continue;
            Path doomed = runDir.resolve(TEMP_PREFIX + "deleted-" + folderName(step) + "-" + System.nanoTime());
            move(dir, doomed);
            deleteTree(doomed);
        }
        syncDirectory(runDir);
    }

    /** The steps of the checkpoint-<step> folders of a run, newest first (complete or not: see {@link #load}). */
    static List<Long> steps(Path runDir) throws IOException {
        List<Long> steps = new ArrayList<>();
        if (!Files.isDirectory(runDir)) return steps;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runDir, PREFIX + "*")) {
            for (Path p : entries) {
                String digits = p.getFileName().toString().substring(PREFIX.length());
                if (Files.isDirectory(p) && digits.matches("[0-9]{1,18}")) steps.add(Long.parseLong(digits));
            }
        }
        steps.sort(Comparator.reverseOrder());
        return steps;
    }

    /** Whether a name is a checkpoint folder's (checkpoint-...). */
    static boolean isCheckpointName(String fileName) { return fileName.startsWith(PREFIX); }

    /** Whether a name is one of the temporaries a save or a deletion leaves when killed (.tmp-...). */
    static boolean isTemporary(String fileName) { return fileName.startsWith(TEMP_PREFIX); }

    /** The folder that {@code runDir/latest} points at; a clear error if there is none. */
    public static Path latest(Path runDir) throws IOException {
        Path pointer = runDir.resolve(LATEST);
        if (!Files.isDirectory(runDir)) throw new CheckpointException(runDir, "run folder does not exist");
        if (!Files.isRegularFile(pointer)) throw new CheckpointException(pointer, "no 'latest' pointer: this run folder has no complete checkpoint");
        String name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
        if (!name.startsWith(PREFIX) || name.contains("/") || name.contains("\\")) {
            throw new CheckpointException(pointer, "does not name a checkpoint folder: '" + name + "'");
        }
        return runDir.resolve(name);
    }

    /** Loads and fully validates a checkpoint folder (manifest fields, tensor header, size, sha256). */
    public static Checkpoint load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir, "checkpoint folder is missing");
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) throw new CheckpointException(manifestFile, "manifest is missing");
        CheckpointManifest m;
        try {
            m = CheckpointManifest.parse(Files.readString(manifestFile, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new CheckpointException(manifestFile, "bad manifest: " + e.getMessage());
        }
        if (m.formatVersion() < CheckpointManifest.FORMAT_WITH_METRICS || m.formatVersion() > CheckpointManifest.FORMAT_VERSION) {
            throw new CheckpointException(manifestFile, "format version " + m.formatVersion() + " is not supported (this build reads "
                    + CheckpointManifest.FORMAT_WITH_METRICS + " to " + CheckpointManifest.FORMAT_VERSION + ")");
        }
        String folder = dir.getFileName() == null ? "" : dir.getFileName().toString();
        if (folder.matches(PREFIX + "[0-9]+") && !folder.equals(folderName(m.step()))) {
            throw new CheckpointException(manifestFile, "says step " + m.step() + ", but its folder is " + folder);
        }
        Path tensors = dir.resolve(TENSORS);
        try (SafeTensors.Reader r = SafeTensors.open(tensors)) {
            // The header is validated by open(); now the bytes themselves.
            long size = Files.size(tensors);
            if (size != m.tensorsBytes()) {
                throw new CheckpointException(tensors, "size mismatch: manifest says " + m.tensorsBytes() + " bytes, file has " + size);
            }
        }
        String sha = SafeTensors.sha256(tensors);
        if (!sha.equals(m.tensorsSha256())) {
            throw new CheckpointException(tensors, "checksum mismatch: sha256 is " + sha + ", manifest says " + m.tensorsSha256());
        }
        requireFinite(tensors);
        return new Checkpoint(dir, m);
    }

    /**
     * Every floating value of the file is finite. d2v never writes a NaN or an infinity; a file
     * that holds one (written elsewhere, or by a build before this check) would restore a model that
     * only ever computes NaN, so it is refused here, naming the tensor.
     */
    private static void requireFinite(Path tensors) throws IOException {
        try (SafeTensors.Reader r = SafeTensors.open(tensors)) {
            for (SafeTensors.Info info : r.tensors().values()) {
                if (info.dtype() == DType.I32) continue;
                long n = info.shape().numel();
                for (long at = 0; at < n; at += SafeTensors.CHUNK) {
                    double[] v = r.read(info.name(), at, (int) Math.min(SafeTensors.CHUNK, n - at));
                    for (int i = 0; i < v.length; i++) {
                        if (!Double.isFinite(v[i])) {
                            throw new CheckpointException(tensors, "tensor '" + info.name() + "' holds " + v[i] + " at element " + (at + i)
                                    + " (d2v refuses non-finite weights: a checkpoint of a diverged run?)");
                        }
                    }
                }
            }
        }
    }

    /**
     * Copies the saved tensors into {@code state}. Every name must be present on both sides with the
     * same shape (floating types may convert, F64 ↔ F32); everything is checked before anything is
     * written, so a failed restore leaves the model as it was.
     */
    /** {@link #restore(Map)} into {@code model}'s state, then {@link TrainableModel#restored()}. */
    public void restore(TrainableModel model) throws IOException {
        restore(model.state());
        model.restored();
    }

    public void restore(Map<String, Tensor> state) throws IOException {
        Path tensors = dir.resolve(TENSORS);
        try (SafeTensors.Reader r = SafeTensors.open(tensors)) {
            Map<String, SafeTensors.Info> saved = r.tensors();
            for (Map.Entry<String, Tensor> e : state.entrySet()) {
                SafeTensors.Info info = saved.get(e.getKey());
                Tensor t = e.getValue();
                if (info == null) throw new CheckpointException(tensors, "missing tensor '" + e.getKey() + "' that the model needs");
                if (!info.shape().equals(t.shape())) {
                    throw new CheckpointException(tensors, "shape mismatch for '" + e.getKey() + "': saved " + info.shape() + ", model has " + t.shape());
                }
                if ((info.dtype() == DType.I32) != (t.dtype() == DType.I32)) {
                    throw new CheckpointException(tensors, "dtype mismatch for '" + e.getKey() + "': saved " + info.dtype() + ", model has " + t.dtype());
                }
            }
            for (String name : saved.keySet()) {
                if (!state.containsKey(name)) throw new CheckpointException(tensors, "tensor '" + name + "' is not part of this model");
            }
            for (Map.Entry<String, Tensor> e : state.entrySet()) {
                Tensor t = e.getValue();
                long n = t.numel();
                for (long at = 0; at < n; at += SafeTensors.CHUNK) {
                    int len = (int) Math.min(SafeTensors.CHUNK, n - at);
                    double[] values = r.read(e.getKey(), at, len);
                    Tensor part = t.view(at, org.d2v.tensor.Shape.of(len));
                    if (t.dtype() == DType.I32) {
                        int[] ints = new int[len];
                        for (int i = 0; i < len; i++) ints[i] = (int) values[i];
                        t.device().uploadInts(part.buffer(), part.offset(), ints);
                    } else {
                        part.copyFrom(values);
                    }
                }
            }
        }
    }

    private static void writeSynced(Path file, String text) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
    }

    /** Makes a rename or a new entry durable. Some file systems refuse to open folders; then the OS decides. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // not supported here (e.g. Windows): nothing more can be done portably
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + to.getParent() + " cannot rename atomically; checkpoints need it", e);
        }
    }

    private static void removeStaleTemporaries(Path runDir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runDir, TEMP_PREFIX + "*")) {
            for (Path p : entries) deleteTree(p);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (NoSuchFileException ignored) {
            // already gone
        }
    }

    /** The saved tensors of a checkpoint as host doubles, by name (for tests and inspection). */
    public Map<String, double[]> readAll() throws IOException {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (SafeTensors.Reader r = SafeTensors.open(dir.resolve(TENSORS))) {
            for (String name : r.tensors().keySet()) out.put(name, r.read(name));
        }
        return out;
    }
}
