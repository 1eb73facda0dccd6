package org.d2v.data.text;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShuffledWordsTest {
    private static final List<String> SENTENCES = List.of(
            "The food was great and the service was quick.",
            "I would not go back there again.",
            "Worst   phone I have\tever owned, it broke twice.",
            "Too short.",
            "A a a a",
            "So so so good",
            "This movie is a masterpiece of slow, careful storytelling!",
            "The battery lasts all day, which is more than I expected.",
            "Nobody in the audience laughed once during the film.");
    private static final List<String> LEFT_OUT = List.of("Too short.", "A a a a");

    private static String asWritten(String s) { return String.join(" ", s.strip().split("\\s+")); }

    @Test
    void aShuffleKeepsEveryTokenAndTheFirstWordAndChangesTheOrder() throws IOException {
        BpeTokenizer bpe = BpeTokenizer.train(BpeTokenizerTest.corpus(), 400);
        List<String> usable = new ArrayList<>(SENTENCES);
        usable.removeAll(LEFT_OUT);
        int shuffled = 0;
        for (long seed = 0; seed < 20; seed++) {
            ShuffledWords.Examples e = ShuffledWords.of(SENTENCES, seed, bpe, 64);
            assertEquals(usable.size(), e.texts().size(), "the short sentence and the one with no other order are left out");
            for (int i = 0; i < e.texts().size(); i++) {
                String original = asWritten(usable.get(i)), text = e.texts().get(i);
                int[] a = bpe.encode(original), b = bpe.encode(text);
                Arrays.sort(a);
                Arrays.sort(b);
                assertArrayEquals(a, b, "the same tokens in both versions: " + text);
                String[] w = original.split(" "), v = text.split(" ");
                assertEquals(w[0], v[0], "the first word stays");
                String[] ws = w.clone(), vs = v.clone();
                Arrays.sort(ws);
                Arrays.sort(vs);
                assertArrayEquals(ws, vs, "the same words");
                assertEquals(e.labels()[i] == 1, !text.equals(original), text);
                shuffled += e.labels()[i];
            }
            ShuffledWords.Examples again = ShuffledWords.of(SENTENCES, seed, bpe, 64);
            assertEquals(e.texts(), again.texts(), "deterministic for a seed");
            assertArrayEquals(e.labels(), again.labels(), "deterministic for a seed");
        }
        int total = 20 * usable.size();
        assertTrue(shuffled > total / 4 && shuffled < 3 * total / 4, "about half are shuffled: " + shuffled + " of " + total);
    }

    @Test
    void sentencesTheModelWouldCutAreLeftOut() throws IOException {
        BpeTokenizer bpe = BpeTokenizer.train(BpeTokenizerTest.corpus(), 400);
        int longest = SENTENCES.stream().mapToInt(s -> bpe.encode(asWritten(s)).length + 1).max().orElseThrow();
        long fit = SENTENCES.stream().filter(s -> !LEFT_OUT.contains(s)).filter(s -> bpe.encode(asWritten(s)).length + 1 <= longest - 1).count();
        ShuffledWords.Examples e = ShuffledWords.of(SENTENCES, 1, bpe, longest - 1);
        assertTrue(fit < SENTENCES.size() - LEFT_OUT.size(), "the case cuts at least one sentence");
        assertEquals(fit, e.texts().size());
        for (String t : e.texts()) assertTrue(bpe.encode(t).length + 1 <= longest - 1, t);
    }

    @Test
    void aTaskWithoutUsableSentencesSaysSoInsteadOfProbingNothing() throws IOException {
        BpeTokenizer bpe = BpeTokenizer.train(BpeTokenizerTest.corpus(), 400);
        List<Sentence> short3 = new ArrayList<>();
        for (String d : TextSets.DOMAINS) for (int i = 0; i < 4; i++) short3.add(new Sentence("was really good.", i % 2, d));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> org.d2v.demo.ProbeTasks.wordOrder(short3, bpe, 64));
        assertTrue(e.getMessage().contains("word order") && e.getMessage().contains("has no training examples"), e.getMessage());
    }
}
