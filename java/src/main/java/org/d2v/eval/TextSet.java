package org.d2v.eval;

import java.util.ArrayList;
import java.util.List;
import org.d2v.data.text.Tokenizer;
import org.d2v.data2vec.Batch;

/**
 * Labeled texts as a {@link LabeledSet}: each text is {@code <s>} followed by its BPE tokens, cut
 * to the model's length (as a pretraining block starts with {@code <s>}); texts of equal token
 * count share a batch, none is padded. The texts themselves stay for raw-feature floors.
 */
public record TextSet(List<String> texts, List<int[]> tokens, int[] labels, int classes, String what) implements LabeledSet {
    public TextSet {
        if (texts.size() != labels.length || tokens.size() != labels.length) {
            throw new IllegalArgumentException(texts.size() + " texts, " + tokens.size() + " token lists, " + labels.length + " labels");
        }
        texts = List.copyOf(texts);
        tokens = List.copyOf(tokens);
    }

    /** Tokenizes {@code texts}, each cut to at most {@code maxTokens} ids including the leading {@code <s>}. */
    public static TextSet of(List<String> texts, int[] labels, int classes, Tokenizer bpe, int maxTokens, String what) {
        if (maxTokens < 2) throw new IllegalArgumentException("texts need room for <s> and one token, got " + maxTokens);
        List<int[]> ids = new ArrayList<>();
        for (String t : texts) {
            int[] enc = bpe.encode(t);
            int n = Math.min(maxTokens, enc.length + 1);
            int[] row = new int[n];
            row[0] = Tokenizer.BOS;
            System.arraycopy(enc, 0, row, 1, n - 1);
            ids.add(row);
        }
        return new TextSet(texts, ids, labels, classes, what);
    }

    @Override public int size() { return texts.size(); }

    @Override
    public String describe() { return size() + " " + what; }

    @Override
    public List<Group> groups(int[] indices, int maxBatch) {
        List<Group> out = new ArrayList<>();
        for (int[] g : LengthGroups.of(indices, i -> tokens.get(i).length, maxBatch)) {
            int n = tokens.get(g[0]).length;
            int[] x = new int[g.length * n];
            for (int i = 0; i < g.length; i++) System.arraycopy(tokens.get(g[i]), 0, x, i * n, n);
            out.add(new Group(g, new Batch.Text(g.length, n, x)));
        }
        return out;
    }

    @Override
    public TextSet subset(int[] indices) {
        List<String> t = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        int[] y = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            t.add(texts.get(indices[i]));
            ids.add(tokens.get(indices[i]));
            y[i] = labels[indices[i]];
        }
        return new TextSet(t, ids, y, classes, what);
    }
}
