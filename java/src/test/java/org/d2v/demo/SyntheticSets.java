package org.d2v.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.eval.SpeechSet;
import org.d2v.eval.TextSet;

/** Small labeled speech and text sets with a learnable label, of varying lengths (for pipeline tests). */
final class SyntheticSets {
    static final List<String> POSITIVE = List.of("good", "great", "lovely", "fine", "tasty"), NEGATIVE = List.of("bad", "awful", "poor", "rude", "cold");
    static final List<String> FILLER = List.of("the", "food", "was", "very", "and", "service", "place", "really");

    private SyntheticSets() {}

    /** Tone clips: label 0 low (~220 Hz), label 1 high (~880 Hz); lengths vary in [minSamples, 2·minSamples). */
    static SpeechSet tones(int n, int minSamples, long seed) {
        Random r = new Random(seed);
        List<float[]> waves = new ArrayList<>();
        int[] y = new int[n];
        for (int k = 0; k < n; k++) {
            y[k] = k % 2;
            waves.add(tone(y[k] == 0 ? 220 : 880, minSamples + r.nextInt(minSamples), r));
        }
        return new SpeechSet(waves, y, 2, "tones");
    }

    static float[] tone(double hz, int samples, Random r) {
        double f = hz * (0.9 + 0.2 * r.nextDouble()), phase = r.nextDouble() * 6.28;
        float[] w = new float[samples];
        for (int i = 0; i < samples; i++) w[i] = (float) (0.5 * Math.sin(2 * Math.PI * f * i / 16000.0 + phase) + 0.02 * r.nextGaussian());
        return w;
    }

    /** Sentences of 2–9 words with one polar word each: label 1 for a positive one. */
    static List<String> sentences(int n, long seed, int[] labels) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            labels[k] = k % 2;
            List<String> words = new ArrayList<>();
            int len = 1 + r.nextInt(8);
            for (int i = 0; i < len; i++) words.add(FILLER.get(r.nextInt(FILLER.size())));
            words.add(r.nextInt(words.size() + 1), (labels[k] == 1 ? POSITIVE : NEGATIVE).get(r.nextInt(5)));
            out.add(String.join(" ", words));
        }
        return out;
    }

    static TextSet texts(int n, long seed, BpeTokenizer bpe, int maxTokens) {
        int[] y = new int[n];
        List<String> s = sentences(n, seed, y);
        return TextSet.of(s, y, 2, bpe, maxTokens, "sentences");
    }

    static BpeTokenizer tokenizer() {
        int[] y = new int[200];
        return BpeTokenizer.train(sentences(200, 99, y), 300);
    }
}
