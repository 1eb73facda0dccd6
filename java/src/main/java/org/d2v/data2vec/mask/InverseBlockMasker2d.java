package org.d2v.data2vec.mask;

import org.d2v.backend.RandomStream;

/**
 * Image masking (docs/algorithm.md §4.1, the reference's {@code compute_block_mask_2d} with
 * {@code inverse_mask: true}): square blocks of width B mark the VISIBLE patches, and everything
 * else is masked.
 *
 * <p>Per row on a gridH × gridW grid of L patches: p = 1 − maskProb is the kept fraction;
 * n_c = int(L·(p + adjust)/B²) centres are drawn uniformly with replacement; each centre marks
 * the B × B block at offsets −(B/2) … B−1−(B/2) (−1..+1 for B = 3) with coordinates clamped to
 * the grid, so edge blocks shrink; then exactly n* = int(L·p) patches are left marked (surplus
 * cleared, shortfall filled, uniformly at random); the mask is 1 − marked. The base image
 * configuration (14 × 14, 0.8, 0.07, 3) gives 5 centres and exactly 39 visible of 196.
 */
public final class InverseBlockMasker2d implements Masker {
    private final int gridH, gridW, blockWidth;
    private final double maskProb, adjust;

    public InverseBlockMasker2d(int gridH, int gridW, double maskProb, double adjust, int blockWidth) {
        if (gridH <= 0 || gridW <= 0) throw new IllegalArgumentException("grid must be positive, got " + gridH + "x" + gridW);
        if (!(maskProb > 0 && maskProb < 1)) throw new IllegalArgumentException("maskProb must be in (0, 1), got " + maskProb);
        if (adjust < 0) throw new IllegalArgumentException("adjust must be >= 0, got " + adjust);
        if (blockWidth < 1) throw new IllegalArgumentException("blockWidth must be >= 1, got " + blockWidth);
        this.gridH = gridH;
        this.gridW = gridW;
        this.maskProb = maskProb;
        this.adjust = adjust;
        this.blockWidth = blockWidth;
    }

    /** The base image configuration (mask_prob 0.8, mask_prob_adjust 0.07, mask_length 3). */
    public static InverseBlockMasker2d base(int gridH, int gridW) {
        return new InverseBlockMasker2d(gridH, gridW, 0.8, 0.07, 3);
    }

    private double keptFraction() { return 1 - maskProb; }

    /** n_c, computed in the reference's order of operations so that the rounding matches. */
    public int centres() {
        int l = gridH * gridW;
        return (int) (l * ((keptFraction() + adjust) / (blockWidth * blockWidth)));
    }

    /** n* = int(L·p): the number of visible patches in every row. */
    public int visible() { return (int) (gridH * gridW * keptFraction()); }

    @Override
    public MaskBatch sample(int rows, int tokens, RandomStream rng) {
        int l = gridH * gridW;
        if (tokens != l) throw new IllegalArgumentException("image masker for a " + gridH + "x" + gridW + " grid got " + tokens + " tokens");
        int[] mask = new int[rows * l];
        for (int r = 0; r < rows; r++) {
            markBlocks(mask, r * l, centres(), rng);
            ExactCount.force(mask, r * l, l, visible(), rng);
            for (int t = 0; t < l; t++) mask[r * l + t] = 1 - mask[r * l + t];
        }
        return new MaskBatch(rows, l, l - visible(), mask);
    }

    /** Draws {@code count} centres and marks their clamped blocks in {@code marks[from .. from+L)}. */
    void markBlocks(int[] marks, int from, int count, RandomStream rng) {
        int low = -(blockWidth / 2);
        for (int c = 0; c < count; c++) {
            int centre = rng.nextInt(gridH * gridW);
            int cy = centre / gridW, cx = centre % gridW;
            for (int dy = low; dy < low + blockWidth; dy++) {
                for (int dx = low; dx < low + blockWidth; dx++) {
                    int y = Math.min(Math.max(cy + dy, 0), gridH - 1);
                    int x = Math.min(Math.max(cx + dx, 0), gridW - 1);
                    marks[from + y * gridW + x] = 1;
                }
            }
        }
    }
}
