package org.d2v.data.audio;

import org.d2v.data.DataFormatException;
import org.d2v.data.ListedPath;
import org.d2v.data.text.Utf8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The clips of an audio data set as headers only (file, sample count, where the samples start):
 * nothing is decoded until a batch needs it, so a set larger than memory is fine. Built from
 * fairseq's manifest (a {@code .tsv} whose first line is the root folder, then
 * {@code relative/path<TAB>num_samples} per line) or from a folder of WAV files; every file's
 * header is checked when the index is built (16 kHz mono, 16-bit PCM or 32-bit float), so a bad
 * file stops the run before training, named. FLAC is refused with a conversion hint: no maintained
 * pure-Java FLAC decoder is on Maven Central.
 */
public record AudioIndex(List<Wav.Info> clips, int[] labels, List<String> classes, String what) {
    public AudioIndex {
        clips = List.copyOf(clips);
        classes = List.copyOf(classes);
        if (labels.length != clips.size()) throw new IllegalArgumentException(clips.size() + " clips but " + labels.length + " labels");
    }

    public int size() { return clips.size(); }

    /** Sample count of clip {@code i}. */
    public long samples(int i) { return clips.get(i).samples(); }

    /** Reads fairseq's manifest; the counts must match the files. */
    public static AudioIndex manifest(Path tsv) throws IOException {
        List<String> lines = Utf8.readLines(tsv);
        if (lines.isEmpty() || lines.get(0).isBlank()) throw new DataFormatException(tsv, "empty manifest (the first line must be the root folder)");
        Path root = ListedPath.resolve(null, lines.get(0).strip(), tsv, 1);
        if (!root.isAbsolute()) root = tsv.toAbsolutePath().getParent().resolve(root);
        if (!Files.isDirectory(root)) throw new DataFormatException(tsv, "line 1: root folder " + root + " does not exist");
        List<Wav.Info> clips = new ArrayList<>();
        for (int n = 1; n < lines.size(); n++) {
            String s = lines.get(n);
            if (s.isBlank()) continue;
            String[] f = s.split("\t");
            if (f.length < 2) throw new DataFormatException(tsv, "line " + (n + 1) + ": expected 'relative/path<TAB>num_samples', got '" + s + "'");
            long count;
            try {
                count = Long.parseLong(f[1].strip());
            } catch (NumberFormatException e) {
                throw new DataFormatException(tsv, "line " + (n + 1) + ": sample count '" + f[1] + "' is not a number");
            }
            Path file = ListedPath.resolve(root, f[0], tsv, n + 1);
            refuseFlac(file);
            if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file (listed on line " + (n + 1) + " of " + tsv + ")");
            Wav.Info info = Wav.info(file);
            if (info.samples() != count) {
                throw new DataFormatException(file, "holds " + info.samples() + " samples but line " + (n + 1) + " of " + tsv + " says " + count);
            }
            clips.add(info);
        }
        if (clips.isEmpty()) throw new DataFormatException(tsv, "the manifest lists no clips");
        return new AudioIndex(clips, new int[clips.size()], List.of(""), "clips of manifest " + tsv.getFileName());
    }

    /** Every {@code .wav} under {@code dir}, recursively, sorted by path. */
    public static AudioIndex folder(Path dir) throws IOException {
        List<Path> files = wavs(dir);
        List<Wav.Info> clips = new ArrayList<>();
        for (Path f : files) clips.add(Wav.info(f));
        return new AudioIndex(clips, new int[clips.size()], List.of(""), "WAV files of " + dir.getFileName());
    }

    /** Class sub-folders of WAV files (sorted by name; label = position), at least two. */
    public static AudioIndex classes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new DataFormatException(dir, "no such folder");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        if (classDirs.size() < 2) throw new DataFormatException(dir, "a labeled audio folder needs one sub-folder of WAV files per class (at least two), found " + classDirs.size());
        List<Wav.Info> clips = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Path c : classDirs) {
            for (Path f : wavs(c)) {
                clips.add(Wav.info(f));
                labels.add(names.size());
            }
            names.add(c.getFileName().toString());
        }
        return new AudioIndex(clips, labels.stream().mapToInt(Integer::intValue).toArray(), names, "clips of " + dir.getFileName());
    }

    /** The WAV files under {@code dir}; an empty folder, or one of FLAC files only, is an error naming it. */
    static List<Path> wavs(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new DataFormatException(dir, "no such folder");
        List<Path> all;
        try (Stream<Path> s = Files.walk(dir)) {
            all = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        List<Path> wav = all.stream().filter(p -> ext(p).equals("wav")).toList();
        if (wav.isEmpty()) {
            for (Path p : all) refuseFlac(p);
            throw new DataFormatException(dir, "no .wav files in this folder or below");
        }
        return wav;
    }

    private static void refuseFlac(Path p) throws DataFormatException {
        if (ext(p).equals("flac")) {
            throw new DataFormatException(p, "FLAC is not supported (no maintained pure-Java decoder on Maven Central); convert: sox in.flac -r 16000 -c 1 out.wav");
        }
    }

    private static String ext(Path p) {
        if (p.getFileName() == null) return ""; // "/" listed in a manifest: no name, no extension
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1);
    }
}
