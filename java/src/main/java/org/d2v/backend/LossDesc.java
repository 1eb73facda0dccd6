package org.d2v.backend;

/**
 * The masked regression loss of data2vec 2.0 (docs/algorithm.md §7.1). pred [rows, tokens, dim] with rows =
 * samples·clones; target [rows/clones, tokens, dim] shared by the clones of a sample (row r reads
 * target r / clones); mask [rows, tokens] (1 = masked: only those count).
 * loss = scale · Σ_masked Σ_d (pred − target)² / normalizer.
 */
public record LossDesc(int rows, int tokens, int dim, int clones, double scale, double normalizer) {
    public LossDesc {
        if (clones < 1 || rows % clones != 0) throw new IllegalArgumentException("rows must be a multiple of clones");
        if (normalizer <= 0) throw new IllegalArgumentException("normalizer must be > 0");
    }
}
