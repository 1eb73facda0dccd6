package org.d2v.data2vec.mask;

import java.util.Arrays;
import org.d2v.backend.RandomStream;

/**
 * Text masking (docs/algorithm.md §4.3, the reference's MAE-style {@code random_masking}): each row draws
 * uniform noise per position and keeps the int(T·(1 − maskProb)) positions with the smallest
 * noise; all others are masked. Equal noise values (the uniforms have 24 bits) are ordered by
 * position so the result never depends on the sort algorithm.
 */
public final class RandomMasker implements Masker {
    private final double maskProb;

    public RandomMasker(double maskProb) {
        if (!(maskProb > 0 && maskProb < 1)) throw new IllegalArgumentException("maskProb must be in (0, 1), got " + maskProb);
        this.maskProb = maskProb;
    }

    /** The base text configuration (mask_prob 0.48; the paper's table says 0.42, docs/algorithm.md §11). */
    public static RandomMasker base() { return new RandomMasker(0.48); }

    /** len_keep = int(T·(1 − R)). */
    public int kept(int tokens) { return (int) (tokens * (1 - maskProb)); }

    @Override
    public MaskBatch sample(int rows, int tokens, RandomStream rng) {
        if (tokens <= 0) throw new IllegalArgumentException("random masker got " + tokens + " tokens");
        int keep = kept(tokens);
        int[] mask = new int[rows * tokens];
        Integer[] order = new Integer[tokens];
        double[] noise = new double[tokens];
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < tokens; t++) {
                noise[t] = rng.nextUniform();
                order[t] = t;
            }
            Arrays.sort(order, (a, b) -> noise[a] != noise[b] ? Double.compare(noise[a], noise[b]) : Integer.compare(a, b));
            Arrays.fill(mask, r * tokens, (r + 1) * tokens, 1);
            for (int i = 0; i < keep; i++) mask[r * tokens + order[i]] = 0;
        }
        return new MaskBatch(rows, tokens, tokens - keep, mask);
    }
}
