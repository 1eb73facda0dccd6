package org.d2v.data.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A word-order task on which a bag of words is at chance by construction (after SentEval's
 * word-order probing tasks, Conneau et al. 2018): each sentence appears once, either as written
 * (label 0) or with its words after the first in a random other order (label 1). Only a
 * representation that sees word order can tell the two apart.
 *
 * <p>Words are the sentence's whitespace-separated pieces, joined again by single spaces in both
 * versions. The first word stays in place, so every moved word keeps its leading space and the
 * byte-level BPE ({@link BpeTokenizer}: chunks are " ?word") gives both versions the same multiset
 * of tokens; sentences whose tokens would be cut to the model's length are left out, so a cut
 * cannot tell them apart either.
 */
public final class ShuffledWords {
    /** The first word stays: shorter sentences leave too few words to move. */
    public static final int MIN_WORDS = 4;

    /** The task's examples: texts and their labels (1: words shuffled). */
    public record Examples(List<String> texts, int[] labels) {}

    private ShuffledWords() {}

    /**
     * One example per usable sentence, in order; the labels and the orders drawn from {@code seed}
     * (the same sentences and seed give the same examples). A sentence is usable with at least
     * {@link #MIN_WORDS} words, two different words after the first, and at most {@code maxTokens}
     * tokens counting {@code <s>}.
     */
    public static Examples of(List<String> sentences, long seed, Tokenizer bpe, int maxTokens) {
        Random rnd = new Random(seed);
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String s : sentences) {
            String[] words = s.strip().split("\\s+");
            String asWritten = String.join(" ", words);
            if (words.length < MIN_WORDS || bpe.encode(asWritten).length + 1 > maxTokens) continue;
            if (Arrays.stream(words, 1, words.length).distinct().count() < 2) continue; // no other order exists
            boolean shuffle = rnd.nextBoolean();
            if (shuffle) {
                do {
                    for (int i = words.length - 1; i > 1; i--) { // Fisher–Yates over words 1..n-1
                        int j = 1 + rnd.nextInt(i);
                        String w = words[i];
                        words[i] = words[j];
                        words[j] = w;
                    }
                } while (String.join(" ", words).equals(asWritten));
            }
            texts.add(String.join(" ", words));
            labels.add(shuffle ? 1 : 0);
        }
        return new Examples(texts, labels.stream().mapToInt(Integer::intValue).toArray());
    }
}
