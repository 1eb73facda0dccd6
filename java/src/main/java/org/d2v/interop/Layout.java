package org.d2v.interop;

import java.util.Arrays;

/**
 * How one tensor's values are laid out in d2v and in fairseq. d2v keeps convolutions channels-last
 * ([out, k, in/groups], [out, kH, kW, in/groups]); PyTorch keeps the input channels second
 * ([out, in/groups, k], [out, in/groups, kH, kW]). A few tensors differ only in their shape
 * (fairseq's extra singleton axes). The values move between the two by a permutation of axes.
 */
enum Layout {
    /** Same shape, same order (Linear, LayerNorm, Embedding, fused qkv: both [3·D, D] with rows q, k, v, each head after head). */
    SAME,
    /** d2v [out, k, in] ↔ fairseq [out, in, k]. */
    CONV1D,
    /** d2v [out, kH, kW, in] ↔ fairseq [out, in, kH, kW]. */
    CONV2D,
    /** Same values, fairseq's shape has extra size-1 axes (CLS token [1, 1, D], per-head ALiBi scale [1, 1, H, 1, 1]). */
    RESHAPE;

    /** fairseq's shape for a d2v tensor of shape {@code d2v}; {@code fairseqRank} only for RESHAPE. */
    int[] fairseqShape(int[] d2v, int[] reshapeTo) {
        return switch (this) {
            case SAME -> d2v.clone();
            case CONV1D -> new int[] {d2v[0], d2v[2], d2v[1]};
            case CONV2D -> new int[] {d2v[0], d2v[3], d2v[1], d2v[2]};
            case RESHAPE -> reshapeTo.clone();
        };
    }

    /** d2v's values (row-major in d2v's shape) in fairseq's order. */
    double[] toFairseq(double[] v, int[] d2v) {
        return switch (this) {
            case SAME, RESHAPE -> v.clone();
            case CONV1D -> moveLastAxis(v, d2v[0], d2v[1], d2v[2], true);
            case CONV2D -> moveLastAxis(v, d2v[0], d2v[1] * d2v[2], d2v[3], true);
        };
    }

    /** fairseq's values in d2v's order ({@code d2v} is d2v's shape). */
    double[] toD2v(double[] v, int[] d2v) {
        return switch (this) {
            case SAME, RESHAPE -> v.clone();
            case CONV1D -> moveLastAxis(v, d2v[0], d2v[1], d2v[2], false);
            case CONV2D -> moveLastAxis(v, d2v[0], d2v[1] * d2v[2], d2v[3], false);
        };
    }

    /**
     * [out, spatial, in] → [out, in, spatial] ({@code forward}) or back: the spatial axes stay in
     * order (kH before kW), so a 2-D kernel is the 1-D case with spatial = kH·kW.
     */
    private static double[] moveLastAxis(double[] v, int out, int spatial, int in, boolean forward) {
        if (v.length != out * spatial * in) throw new IllegalArgumentException("expected " + out * spatial * in + " values, got " + v.length);
        double[] r = new double[v.length];
        for (int o = 0; o < out; o++) {
            for (int s = 0; s < spatial; s++) {
                for (int c = 0; c < in; c++) {
                    int channelsLast = (o * spatial + s) * in + c, channelsFirst = (o * in + c) * spatial + s;
                    if (forward) r[channelsFirst] = v[channelsLast];
                    else r[channelsLast] = v[channelsFirst];
                }
            }
        }
        return r;
    }

    static String shape(int[] s) { return Arrays.toString(s); }
}
