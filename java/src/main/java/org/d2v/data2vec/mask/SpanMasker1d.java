package org.d2v.data2vec.mask;

import org.d2v.backend.RandomStream;

/**
 * Audio masking (docs/algorithm.md §4.2, the reference's {@code compute_block_mask_1d}, not inverse): spans of
 * B frames mark the MASKED positions.
 *
 * <p>Per row of T frames: n_c = int(T·(maskProb + adjust)/B) centres uniformly with replacement;
 * each masks offsets −(B/2) … B−1−(B/2) (−2..+2 for B = 5) clamped to [0, T−1]; then masks are
 * cleared or added uniformly at random until exactly round(maskProb·T) are masked.
 *
 * <p>Why round and not the reference's int: the reference computes masks for the whole utterance
 * and crops them afterwards, so its row counts drift and only row 0's is used (docs/algorithm.md §4.2 caveat).
 * Following the clean-reimplementation note of docs/algorithm.md §4.2, masks here are drawn after cropping (the
 * caller passes the cropped frame count) with exactly round(R·T) masked per row (Java's
 * {@link Math#round}, halves round up: T = 999 gives 500, the reference's int gives 499).
 */
public final class SpanMasker1d implements Masker {
    private final double maskProb, adjust;
    private final int spanLength;

    public SpanMasker1d(double maskProb, double adjust, int spanLength) {
        if (!(maskProb > 0 && maskProb < 1)) throw new IllegalArgumentException("maskProb must be in (0, 1), got " + maskProb);
        if (adjust < 0) throw new IllegalArgumentException("adjust must be >= 0, got " + adjust);
        if (spanLength < 1) throw new IllegalArgumentException("spanLength must be >= 1, got " + spanLength);
        this.maskProb = maskProb;
        this.adjust = adjust;
        this.spanLength = spanLength;
    }

    /** The base audio configuration (mask_prob 0.5, mask_prob_adjust 0.05, mask_length 5). */
    public static SpanMasker1d base() { return new SpanMasker1d(0.5, 0.05, 5); }

    /** n_c for T frames, in the reference's order of operations. */
    public int centres(int tokens) { return (int) (tokens * ((maskProb + adjust) / spanLength)); }

    /** round(R·T): the number masked in every row. */
    public int masked(int tokens) { return (int) Math.round(maskProb * tokens); }

    @Override
    public MaskBatch sample(int rows, int tokens, RandomStream rng) {
        if (tokens <= 0) throw new IllegalArgumentException("span masker got " + tokens + " tokens");
        int[] mask = new int[rows * tokens];
        int low = -(spanLength / 2);
        for (int r = 0; r < rows; r++) {
            int from = r * tokens;
            for (int c = centres(tokens); c > 0; c--) {
                int centre = rng.nextInt(tokens);
                for (int d = low; d < low + spanLength; d++) {
                    mask[from + Math.min(Math.max(centre + d, 0), tokens - 1)] = 1;
                }
            }
            ExactCount.force(mask, from, tokens, masked(tokens), rng);
        }
        return new MaskBatch(rows, tokens, masked(tokens), mask);
    }
}
