package org.d2v.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntUnaryOperator;

/** Splits example indices into runs of equal length, at most {@code maxBatch} each (for batching without padding). */
final class LengthGroups {
    private LengthGroups() {}

    /** Groups of {@code indices} with equal {@code length}, shortest first, each in the order the indices were given. */
    static List<int[]> of(int[] indices, IntUnaryOperator length, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        Integer[] order = new Integer[indices.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        // Stable sort by length: equal lengths keep the callers' order.
        Arrays.sort(order, Comparator.comparingInt(i -> length.applyAsInt(indices[i])));
        List<int[]> out = new ArrayList<>();
        int from = 0;
        while (from < order.length) {
            int len = length.applyAsInt(indices[order[from]]), to = from;
            while (to < order.length && to - from < maxBatch && length.applyAsInt(indices[order[to]]) == len) to++;
            int[] g = new int[to - from];
            for (int k = from; k < to; k++) g[k - from] = indices[order[k]];
            out.add(g);
            from = to;
        }
        return out;
    }
}
