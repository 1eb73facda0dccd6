package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.d2v.data.TestData;
import org.d2v.data.audio.Wav;
import org.d2v.data.text.BpeTokenizer;

/**
 * Small data folders in the layout 'd2v data install' writes (speech, text, fashion-mnist), made
 * of synthetic tones, short sentences and the 200 real test images, for command-line tests.
 */
final class DataFolders {
    static final List<String> VOICES = List.of("espeak/en+m1", "espeak/en-us+m3", "espeak/en+klatt", "flite/awb", "flite/slt");
    static final String[] POSITIVE = {"good", "great", "lovely"}, NEGATIVE = {"bad", "awful", "poor"};

    private DataFolders() {}

    /** speech/pretrain (8 tone clips of 0.3–0.45 s) and speech/digits (digits 0–2 in five voices, two held out). */
    static void speech(Path root) throws IOException {
        Random r = new Random(1);
        Path pre = Files.createDirectories(root.resolve("speech/pretrain/ktuberling/en"));
        List<String> index = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Wav.write(pre.resolve("w" + i + ".wav"), tone(120 + 40 * i, 4800 + r.nextInt(2400), r), Wav.RATE);
            index.add("ktuberling/en/w" + i + ".wav\tktuberling\ten");
        }
        Files.write(root.resolve("speech/pretrain/index.tsv"), index);
        List<String> digits = new ArrayList<>();
        for (String voice : VOICES) {
            for (int d = 0; d < 3; d++) {
                for (int k = 0; k < 2; k++) {
                    String rel = voice + "/" + d + "_" + k + ".wav";
                    Files.createDirectories(root.resolve("speech/digits").resolve(rel).getParent());
                    Wav.write(root.resolve("speech/digits").resolve(rel), tone(200 + 300 * d + 20 * k, 2400 + r.nextInt(1600), r), Wav.RATE);
                    digits.add(rel + "\t" + d + "\t" + voice.substring(0, voice.indexOf('/')) + "\t" + voice + "\tp" + k);
                }
            }
        }
        Files.write(root.resolve("speech/digits/index.tsv"), digits);
    }

    static float[] tone(double hz, int samples, Random r) {
        float[] w = new float[samples];
        for (int i = 0; i < samples; i++) w[i] = (float) (0.4 * Math.sin(2 * Math.PI * hz * i / Wav.RATE) + 0.01 * r.nextGaussian());
        return w;
    }

    /** text/corpus (one document per source), its BPE tokenizer and three sentiment domains of 12 sentences. */
    static void text(Path root) throws IOException {
        Random r = new Random(2);
        List<String> corpus = new ArrayList<>();
        for (String src : new String[] {"brown", "sotu", "moby-dick"}) {
            StringBuilder doc = new StringBuilder(Files.readString(TestData.file("brown-ca01-excerpt.txt")));
            for (int i = 0; i < 40; i++) doc.append(' ').append(sentence(r, i % 2 == 0));
            Path f = root.resolve("text/corpus/" + src + "/" + src + ".txt");
            Files.createDirectories(f.getParent());
            Files.writeString(f, doc);
            corpus.add(doc.toString());
        }
        BpeTokenizer.train(corpus, 400).save(root.resolve("text/bpe-4096.txt"));
        Files.createDirectories(root.resolve("text/sentiment"));
        for (String domain : new String[] {"imdb", "amazon", "yelp"}) {
            StringBuilder json = new StringBuilder("[");
            for (int i = 0; i < 12; i++) {
                json.append(String.format("{\"text\": \"%s\", \"class\": %d}, ", sentence(r, i % 2 == 1), i % 2));
            }
            json.append("{\"text\": \"the record without a class\"}]");
            Files.writeString(root.resolve("text/sentiment/" + domain + ".json"), json);
        }
    }

    private static String sentence(Random r, boolean positive) {
        String[] filler = {"the", "food", "was", "and", "service", "really"};
        // four words: the word-order task keeps the first in place and needs three to move
        return filler[r.nextInt(6)] + " " + (positive ? POSITIVE : NEGATIVE)[r.nextInt(3)] + " " + filler[r.nextInt(6)] + " " + filler[r.nextInt(6)] + ".";
    }

    /** fashion-mnist: the 200 real test images as both splits. */
    static void fashion(Path root) throws IOException {
        Path set = Files.createDirectories(root.resolve("fashion-mnist"));
        for (String split : new String[] {"train", "t10k"}) {
            Files.copy(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), set.resolve(split + "-images-idx3-ubyte.gz"));
            Files.copy(TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), set.resolve(split + "-labels-idx1-ubyte.gz"));
        }
    }
}
