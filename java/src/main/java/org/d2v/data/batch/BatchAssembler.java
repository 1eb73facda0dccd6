package org.d2v.data.batch;

import org.d2v.backend.RandomStream;

/**
 * Builds one batch from the dataset indices chosen for it. {@code rng} is derived from the loader's
 * seed and the batch's position alone, so augmentations drawn from it come out the same after a
 * resume, whatever thread builds the batch.
 */
@FunctionalInterface
public interface BatchAssembler<B> {
    B assemble(int[] indices, RandomStream rng) throws Exception;
}
