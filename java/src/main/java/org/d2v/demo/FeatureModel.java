package org.d2v.demo;

import org.d2v.data2vec.Batch;
import org.d2v.data2vec.mask.Masker;
import org.d2v.train.TrainableModel;

/**
 * A pretrainable model the demo can also evaluate: frozen encoder features for the linear probe
 * and the masker it trains with (for the mask figure).
 */
public interface FeatureModel extends TrainableModel {
    /**
     * The encoder on unmasked input, in eval mode, mean-pooled over the patch tokens (no CLS; spec
     * §10): [batch.size() × featureDim()] row-major.
     */
    double[] pooledFeatures(Batch batch);

    /** Width of a pooled feature vector. */
    int featureDim();

    /** The masks the model trains with. */
    Masker masker();
}
