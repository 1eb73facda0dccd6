package org.d2v.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Binary bag-of-words features over a vocabulary built from the training texts only (lower-cased words). */
public final class BagOfWords {
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}']+");
    private final Map<String, Integer> vocab;

    private BagOfWords(Map<String, Integer> vocab) { this.vocab = vocab; }

    public static BagOfWords fit(List<String> trainTexts) {
        Map<String, Integer> v = new LinkedHashMap<>();
        for (String t : trainTexts) for (String w : words(t)) v.putIfAbsent(w, v.size());
        return new BagOfWords(v);
    }

    public int dim() { return vocab.size(); }

    /** Rows of 0/1 presence; words unseen in training are ignored. */
    public float[] transform(List<String> texts) {
        float[] out = new float[texts.size() * dim()];
        for (int i = 0; i < texts.size(); i++) {
            for (String w : words(texts.get(i))) {
                Integer j = vocab.get(w);
                if (j != null) out[i * dim() + j] = 1;
            }
        }
        return out;
    }

    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) out.add(m.group());
        return out;
    }
}
