package org.d2v.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The record {@code d2v data install} leaves in a set's folder, and its check whenever training
 * or a probe opens the set. {@value #MANIFEST} holds every file's SHA-256 in sha256sum's format
 * ({@code sha256sum -c} reads it); {@value #STAMPS} beside it holds each file's size and
 * modification time as they were when the hash was last computed. Opening a set compares size
 * and time (one stat per file); only a file whose stamp differs is hashed again, and a file whose
 * hash differs fails with the file, both hashes and how to reinstall. {@link Mode#FULL} hashes
 * every file whatever its stamp (what {@code d2v data install} does for a set already there).
 * A folder without a manifest (one not made by the installer) is not checked.
 */
public final class InstalledSet {
    public static final String MANIFEST = "MANIFEST.sha256";
    public static final String STAMPS = "MANIFEST.stamps";
    private static final String STAMPS_HEADER = "# d2v data install stamps v1: size<TAB>mtime-ns<TAB>path (the sha256 is in " + MANIFEST + ")";

    /** How much to check. */
    public enum Mode {
        /** Size and modification time; the hash only where they changed. */
        QUICK,
        /** The hash of every file. */
        FULL
    }

    /** What a check did: files listed and files hashed. */
    public record Checked(int files, int hashed) {}

    private InstalledSet() {}

    /** Whether {@code dir} holds a manifest. */
    public static boolean present(Path dir) { return Files.isRegularFile(dir.resolve(MANIFEST)); }

    /** Records every file under {@code dir} (hash, size, time): the manifest and its stamps, each written atomically. */
    public static void record(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).filter(p -> !isRecord(dir, p)).sorted().toList();
        }
        StringBuilder m = new StringBuilder();
        Map<String, Stamp> stamps = new HashMap<>();
        for (Path f : files) {
            String rel = dir.relativize(f).toString().replace('\\', '/');
            Stamp before = Stamp.of(f);
            m.append(Checksums.sha256(f)).append("  ").append(rel).append('\n');
            stamps.put(rel, before);
        }
        writeAtomically(dir.resolve(MANIFEST), m.toString());
        writeStamps(dir, stamps);
    }

    /** {@link Mode#QUICK} when the folder has a manifest; nothing otherwise. */
    public static void check(Path dir) throws IOException {
        if (present(dir)) verify(dir, Mode.QUICK);
    }

    /**
     * Checks every file the manifest lists. Throws {@link DataFormatException} naming the file when
     * one is missing or its SHA-256 differs (with both hashes and how to reinstall), or naming the
     * manifest when it is malformed. Stamps found stale but whose file still matches are renewed.
     */
    public static Checked verify(Path dir, Mode mode) throws IOException {
        Path manifest = dir.resolve(MANIFEST);
        Map<String, Stamp> stamps = mode == Mode.QUICK ? readStamps(dir) : new HashMap<>();
        Map<String, Stamp> renewed = new HashMap<>(stamps);
        int files = 0, hashed = 0;
        long lineNo = 0;
        List<String> lines;
        try {
            lines = Files.readAllLines(manifest, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new DataFormatException(manifest, "not UTF-8 text (a damaged manifest)");
        } catch (NoSuchFileException e) {
            throw new DataFormatException(manifest, "no such file");
        }
        for (String line : lines) {
            lineNo++;
            if (line.isBlank()) continue;
            if (line.length() < 67 || line.charAt(64) != ' ' || line.charAt(65) != ' ' || !isHex(line.substring(0, 64))) {
                throw new DataFormatException(manifest, "line " + lineNo + ": expected '<64 hex digits>  <path>' as sha256sum writes it");
            }
            String expected = line.substring(0, 64), rel = line.substring(66);
            Path file = ListedPath.resolve(dir, rel, manifest, lineNo).normalize();
            if (!file.startsWith(dir.normalize()) || isRecord(dir, file)) {
                throw new DataFormatException(manifest, "line " + lineNo + ": '" + rel + "' is not a file of this set");
            }
            files++;
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(file, BasicFileAttributes.class); // one stat: the whole cost of an unchanged file
            } catch (NoSuchFileException e) {
                a = null;
            }
            if (a == null || !a.isRegularFile()) {
                throw new DataFormatException(file, "missing from the installed set (listed in " + manifest + "); " + reinstall(dir));
            }
            Stamp now = Stamp.of(a);
            if (now.equals(stamps.get(rel))) continue;
            String actual = Checksums.sha256(file);
            hashed++;
            if (!actual.equalsIgnoreCase(expected)) {
                throw new DataFormatException(file, "sha256 mismatch: expected " + expected + " (recorded at install), found " + actual
                        + " (the file changed since, or is damaged); " + reinstall(dir));
            }
            renewed.put(rel, now);
        }
        if (hashed > 0 || !Files.isRegularFile(dir.resolve(STAMPS))) {
            try {
                writeStamps(dir, renewed);
            } catch (AccessDeniedException e) {
                // A read-only data folder: the check stands, the next open hashes these files again.
            } catch (FileSystemException e) {
                if (!String.valueOf(e.getReason()).contains("Read-only")) throw e;
            }
        }
        return new Checked(files, hashed);
    }

    /** How to reinstall the set in {@code dir}. */
    static String reinstall(Path dir) {
        Path root = dir.toAbsolutePath().getParent();
        return "reinstall it: rm -rf " + dir + " && d2v data install --sets " + dir.getFileName() + " --dir " + root;
    }

    /** The manifest, its stamps and their temporary files are not files of the set. */
    private static boolean isRecord(Path dir, Path p) {
        return p.getParent() != null && p.getParent().equals(dir) && p.getFileName().toString().startsWith("MANIFEST.");
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) if (Character.digit(s.charAt(i), 16) < 0) return false;
        return true;
    }

    /** A file's size and modification time. */
    private record Stamp(long size, long mtimeNanos) {
        static Stamp of(Path f) throws IOException { return of(Files.readAttributes(f, BasicFileAttributes.class)); }

        static Stamp of(BasicFileAttributes a) { return new Stamp(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS)); }
    }

    /** The stamps file, or nothing when it is missing or unreadable: it is only a cache of "unchanged since hashed". */
    private static Map<String, Stamp> readStamps(Path dir) {
        Map<String, Stamp> out = new HashMap<>();
        try {
            for (String line : Files.readAllLines(dir.resolve(STAMPS), StandardCharsets.UTF_8)) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] f = line.split("\t", 3);
                if (f.length != 3) return new HashMap<>();
                out.put(f[2], new Stamp(Long.parseLong(f[0]), Long.parseLong(f[1])));
            }
        } catch (IOException | RuntimeException e) {
            return new HashMap<>(); // a damaged cache costs a full hash, never a wrong answer
        }
        return out;
    }

    private static void writeStamps(Path dir, Map<String, Stamp> stamps) throws IOException {
        StringBuilder b = new StringBuilder(STAMPS_HEADER).append('\n');
        List<String> names = new ArrayList<>(stamps.keySet());
        names.sort(null);
        for (String n : names) b.append(stamps.get(n).size()).append('\t').append(stamps.get(n).mtimeNanos()).append('\t').append(n).append('\n');
        writeAtomically(dir.resolve(STAMPS), b.toString());
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
