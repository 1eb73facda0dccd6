package org.d2v.data2vec.mask;

import org.d2v.backend.RandomStream;

/**
 * Forces one row to exactly {@code target} marked positions (docs/algorithm.md §4.1 step 4, the reference's
 * {@code require_same_masks}): surplus marks are cleared and missing ones added, each time choosing
 * uniformly without replacement among the candidates. The student keeps the same number of tokens
 * in every row only because of this step.
 */
final class ExactCount {
    private ExactCount() {}

    /** Adjusts {@code marks[from .. from+length)} (0/1 values) in place to exactly {@code target} ones. */
    static void force(int[] marks, int from, int length, int target, RandomStream rng) {
        int n = 0;
        for (int t = 0; t < length; t++) n += marks[from + t];
        if (n > target) flip(marks, from, length, 1, n - target, rng);
        else if (n < target) flip(marks, from, length, 0, target - n, rng);
    }

    /** Flips {@code count} positions holding {@code value}, chosen uniformly without replacement. */
    private static void flip(int[] marks, int from, int length, int value, int count, RandomStream rng) {
        int[] candidates = new int[length];
        int size = 0;
        for (int t = 0; t < length; t++) if (marks[from + t] == value) candidates[size++] = t;
        // Partial Fisher–Yates: the first `count` slots become a uniform sample without replacement.
        for (int i = 0; i < count; i++) {
            int j = i + rng.nextInt(size - i);
            int chosen = candidates[j];
            candidates[j] = candidates[i];
            candidates[i] = chosen;
            marks[from + chosen] = 1 - value;
        }
    }
}
