package org.d2v.data.text;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Pretraining text as a stream of documents, read lazily (one file, or one line, at a time): a
 * folder of {@code .txt} files (recursively, sorted by path; each file one document) or a single
 * file with one document per line (blank lines skipped). Strict UTF-8: a bad byte is an error
 * naming the file and its byte offset.
 */
public final class TextCorpus {
    /** Receives documents in corpus order. */
    @FunctionalInterface
    public interface DocumentSink {
        void document(String text) throws IOException;
    }

    private final List<Path> files;
    private final boolean linePerDocument;
    private final String what;

    private TextCorpus(List<Path> files, boolean linePerDocument, String what) {
        this.files = List.copyOf(files);
        this.linePerDocument = linePerDocument;
        this.what = what;
    }

    /** A folder of .txt files, or one file of one document per line. */
    public static TextCorpus of(Path path) throws IOException {
        if (Files.isRegularFile(path)) return lines(path);
        return folders(List.of(path));
    }

    /** One document per non-blank line of {@code file}. */
    public static TextCorpus lines(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file");
        if (Files.size(file) == 0) throw new DataFormatException(file, "empty file");
        return new TextCorpus(List.of(file), true, "documents, one per line of " + file.getFileName());
    }

    /** Every .txt file under each folder, folders in the given order, files sorted by path within each. */
    public static TextCorpus folders(List<Path> dirs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) throw new DataFormatException(dir, "no such folder");
            try (Stream<Path> s = Files.walk(dir)) {
                List<Path> txt = s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(".txt"))
                        .filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
                if (txt.isEmpty()) throw new DataFormatException(dir, "no .txt files in this folder or below");
                files.addAll(txt);
            }
        }
        return new TextCorpus(files, false, ".txt documents");
    }

    /** The files read (one, for a line-per-document corpus). */
    public List<Path> files() { return files; }

    /** Streams every document, in order. */
    public void forEach(DocumentSink sink) throws IOException {
        if (linePerDocument) {
            long[] kept = {0};
            Utf8.forEachLine(files.get(0), (line, n, offset) -> {
                if (line.indexOf('\0') >= 0) throw new DataFormatException(files.get(0), "binary file (NUL byte on line " + n + "), not text");
                if (!line.isBlank()) {
                    kept[0]++;
                    sink.document(line);
                }
            });
            if (kept[0] == 0) throw new DataFormatException(files.get(0), "no documents (every line is blank)");
        } else {
            for (Path f : files) sink.document(TextFiles.read(f));
        }
    }

    /** The documents' text, up to about {@code maxChars} characters in all (a sample to train a tokenizer on). */
    public List<String> sample(long maxChars) throws IOException {
        List<String> out = new ArrayList<>();
        long[] chars = {0};
        try {
            forEach(d -> {
                if (chars[0] >= maxChars) throw new StopSampling();
                out.add(d);
                chars[0] += d.length();
            });
        } catch (StopSampling done) {
            // enough text
        }
        return out;
    }

    private static final class StopSampling extends RuntimeException {
        StopSampling() { super(null, null, false, false); }
    }

    public String describe() { return files.size() == 1 && linePerDocument ? what : files.size() + " " + what; }
}
