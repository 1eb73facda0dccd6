package org.d2v.data2vec.mask;

/**
 * The masks of a batch: {@code mask[r·tokens + t]} is 1 where position t of row r is masked (the
 * student drops it and the loss is taken there), 0 where it is kept. Every row masks exactly
 * {@code masked} positions.
 */
public record MaskBatch(int rows, int tokens, int masked, int[] mask) {
    public MaskBatch {
        if (mask.length != rows * tokens) throw new IllegalArgumentException("mask has " + mask.length + " entries, expected " + rows * tokens);
        for (int r = 0; r < rows; r++) {
            int n = 0;
            for (int t = 0; t < tokens; t++) n += mask[r * tokens + t];
            if (n != masked) throw new IllegalArgumentException("row " + r + " masks " + n + " positions, expected " + masked);
        }
    }

    public int kept() { return tokens - masked; }

    /** [rows, kept]: the kept positions of each row in increasing order (gather indices). */
    public int[] keepIndices() { return positions(0, kept()); }

    /** [rows, masked]: the masked positions of each row in increasing order. */
    public int[] maskedIndices() { return positions(1, masked); }

    private int[] positions(int value, int perRow) {
        int[] out = new int[rows * perRow];
        for (int r = 0; r < rows; r++) {
            int k = 0;
            for (int t = 0; t < tokens; t++) if (mask[r * tokens + t] == value) out[r * perRow + k++] = t;
        }
        return out;
    }
}
