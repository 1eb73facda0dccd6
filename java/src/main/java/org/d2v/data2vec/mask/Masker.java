package org.d2v.data2vec.mask;

import org.d2v.backend.RandomStream;

/**
 * Draws the masks of one batch (docs/algorithm.md §4): {@code rows} = samples × clones, each row with its own
 * independent mask over {@code tokens} positions and every row with the same number masked.
 * Randomness comes only from {@code rng}, so a resumed run draws the same masks.
 */
public interface Masker {
    MaskBatch sample(int rows, int tokens, RandomStream rng);
}
