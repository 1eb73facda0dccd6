package org.d2v.eval;

import java.util.List;
import org.d2v.data2vec.Batch;

/**
 * Labeled examples of one modality, as the probe and fine-tuning read them: the examples at any
 * indices come back as model batches, grouped so that each group's inputs share one shape (one
 * forward pass each). Variable-length examples (speech clips, sentences) are grouped by exact
 * length rather than padded, so every example is encoded exactly as it would be alone.
 */
public interface LabeledSet {
    /** Examples whose inputs share a shape: their indices in the set, in the batch's row order. */
    record Group(int[] examples, Batch batch) {}

    int size();

    /** Labels in [0, classes()). */
    int[] labels();

    int classes();

    /** What the examples are, for reports ("1410 spoken digits"). */
    String describe();

    /** The examples at {@code indices} in groups of at most {@code maxBatch} inputs of one shape. */
    List<Group> groups(int[] indices, int maxBatch);

    /** The examples at {@code indices}, in that order (a new set). */
    LabeledSet subset(int[] indices);

    /** The first {@code n} examples (all when n ≥ size). */
    default LabeledSet head(int n) {
        if (n >= size()) return this;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return subset(idx);
    }

    /**
     * {@code n} examples spread evenly over the set (every size/n-th), so that a small quick probe
     * of a set stored in voice or domain order still sees all of it.
     */
    default LabeledSet spread(int n) {
        if (n >= size()) return this;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = (int) ((long) i * size() / n);
        return subset(idx);
    }

    /** 0, 1, …, size − 1. */
    default int[] all() {
        int[] idx = new int[size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        return idx;
    }
}
