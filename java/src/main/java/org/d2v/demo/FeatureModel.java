package org.d2v.demo;

import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.data2vec.mask.Masker;
import org.d2v.train.TrainableModel;

/**
 * A pretrainable model the demo can also evaluate: frozen encoder features for the linear probe
 * and the masker it trains with (for the mask figure).
 */
public interface FeatureModel extends TrainableModel {
    /**
     * Frozen features of the encoder on unmasked input, in eval mode (for data2vec: the final output
     * mean-pooled over the tokens, docs/algorithm.md §10, optionally with more layers, see
     * {@link Data2VecFeatures}): [batch.size() × featureDim()] row-major.
     */
    double[] pooledFeatures(Batch batch);

    /** Width of a pooled feature vector. */
    int featureDim();

    /** The masks the model trains with. */
    Masker masker();

    /** The data2vec 2.0 model behind these features, for the run's diagnostics; null for other models (tests' stand-ins). */
    default Data2Vec data2vec() { return null; }

    /** Decoder predictions next to their targets for masked inputs (the reconstruction figure); null for a model without a decoder. */
    default Data2Vec.Reconstruction reconstruct(Batch batch, MaskBatch masks, RandomStream rng) { return null; }
}
