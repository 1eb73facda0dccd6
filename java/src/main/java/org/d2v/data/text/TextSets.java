package org.d2v.data.text;

import org.d2v.data.DataDir;
import org.d2v.data.DataFormatException;
import org.d2v.data.Split;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The text sets as installed by {@code d2v data install --sets text}:
 * {@code text/corpus/<source>/*.txt} (Brown with its tags stripped, State of the Union, Moby Dick;
 * Brown genres in {@code text/corpus/brown/genres.tsv}) and the sentiment fixtures
 * {@code text/sentiment/<domain>.json}.
 */
public final class TextSets {
    public static final String SET = "text";
    public static final List<String> SOURCES = List.of("brown", "sotu", "moby-dick");
    public static final List<String> DOMAINS = List.of("imdb", "amazon", "yelp");

    private TextSets() {}

    /** Every pretraining document, sources in {@link #SOURCES} order, files in name order. */
    public static List<Document> pretrainCorpus(Path dataRoot) throws IOException {
        Path corpus = DataDir.of(dataRoot, SET).resolve("corpus");
        List<Document> out = new ArrayList<>();
        for (String source : SOURCES) out.addAll(readFolder(corpus.resolve(source), source));
        return out;
    }

    /** Reads every {@code *.txt} of {@code dir} (sorted by name); Brown genres from genres.tsv when present. */
    public static List<Document> readFolder(Path dir, String source) throws IOException {
        if (!Files.isDirectory(dir)) throw new DataFormatException(dir, "no such corpus folder");
        Map<String, String> genres = new HashMap<>();
        Path g = dir.resolve("genres.tsv");
        if (Files.exists(g)) {
            for (String line : TextFiles.read(g).split("\n")) {
                String[] f = line.split("\t");
                if (f.length == 2) genres.put(f[0], f[1]);
            }
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
        }
        if (files.isEmpty()) throw new DataFormatException(dir, "no .txt files");
        List<Document> out = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString().replaceFirst("\\.txt$", "");
            out.add(new Document(source, name, genres.getOrDefault(name, ""), TextFiles.read(f)));
        }
        return out;
    }

    /** The byte-level BPE tokenizer (4096 ids) that setup trained on the pretraining corpus. */
    public static BpeTokenizer tokenizer(Path dataRoot) throws IOException {
        return BpeTokenizer.load(tokenizerFile(dataRoot));
    }

    /** Where setup saved that tokenizer. */
    public static Path tokenizerFile(Path dataRoot) throws IOException {
        return DataDir.of(dataRoot, SET).resolve("bpe-4096.txt");
    }

    /** All sentiment sentences of the three domains. */
    public static List<Sentence> sentiment(Path dataRoot) throws IOException {
        Path dir = DataDir.of(dataRoot, SET).resolve("sentiment");
        List<Sentence> out = new ArrayList<>();
        for (String d : DOMAINS) out.addAll(readSentiment(dir.resolve(d + ".json"), d));
        return out;
    }

    /**
     * Reads one fixture: a JSON array of {"text": ..., "class": 0|1}. The files end with one
     * record without a class (an artefact of their conversion), which is dropped; any other
     * record without a class is an error.
     */
    public static List<Sentence> readSentiment(Path file, String domain) throws IOException {
        Object parsed;
        try {
            parsed = Json.parse(TextFiles.read(file));
        } catch (IllegalArgumentException e) {
            throw new DataFormatException(file, e.getMessage(), e);
        }
        if (!(parsed instanceof List<?> records)) throw new DataFormatException(file, "expected a JSON array of records");
        List<Sentence> out = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            if (!(records.get(i) instanceof Map<?, ?> r)) throw new DataFormatException(file, "record " + i + " is not an object");
            Object text = r.get("text"), cls = r.get("class");
            if (cls == null && i == records.size() - 1) break;
            if (!(text instanceof String t) || !(cls instanceof Double c) || (c != 0 && c != 1)) {
                throw new DataFormatException(file, "record " + i + " lacks a text or a class 0/1");
            }
            out.add(new Sentence(t.strip(), c.intValue(), domain));
        }
        if (out.isEmpty()) throw new DataFormatException(file, "no labelled sentences");
        return out;
    }

    /** Leave one domain out: test on {@code domain}, train on the other two. */
    public static Split<Sentence> leaveDomainOut(List<Sentence> all, String domain) {
        if (!DOMAINS.contains(domain)) throw new IllegalArgumentException("unknown domain " + domain + "; one of " + DOMAINS);
        return Split.by(all, s -> s.domain().equals(domain));
    }
}
