package org.d2v.demo;

import java.util.Map;
import java.util.function.BiFunction;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.data2vec.mask.Masker;
import org.d2v.dist.DataParallel;
import org.d2v.tensor.Tensor;
import org.d2v.train.BatchShare;
import org.d2v.train.StepStats;

/**
 * The data2vec 2.0 model seen as a {@link FeatureModel}: every call goes to the model. Its probe
 * features are either the final output mean-pooled over the tokens ({@link Data2Vec#pooledFeatures})
 * or, with {@code layers}, that plus the CLS token (images) and each main block's mean-pooled FFN
 * output ({@link Data2Vec#layerFeatures}); the same extraction applies to a pretrained and a fresh model.
 */
public final class Data2VecFeatures implements FeatureModel {
    private final Data2Vec model;
    private final boolean layers;

    public Data2VecFeatures(Data2Vec model) { this(model, false); }

    public Data2VecFeatures(Data2Vec model, boolean layers) {
        this.model = model;
        this.layers = layers;
    }

    /** A new model of {@code config} on {@code device} with mean-pooled final features. */
    public static FeatureModel create(Data2VecConfig config, Device device) { return new Data2VecFeatures(new Data2Vec(device, config)); }

    /** The demo's model factory: final features only, or all layers' ({@code layers}). */
    public static BiFunction<Data2VecConfig, Device, FeatureModel> factory(boolean layers) {
        return (config, device) -> new Data2VecFeatures(new Data2Vec(device, config), layers);
    }

    /** {@link #factory(boolean)} with the mixed-precision policy {@code precision}. */
    public static BiFunction<Data2VecConfig, Device, FeatureModel> factory(boolean layers, Precision precision) {
        return (config, device) -> new Data2VecFeatures(new Data2Vec(device, config, precision), layers);
    }

    public Data2Vec model() { return model; }

    @Override public Data2Vec data2vec() { return model; }

    @Override public Device device() { return model.device(); }

    @Override
    public StepStats trainStep(BatchShare share, long step, double lr, RandomStream rng, DataParallel dp) {
        return model.trainStep(share, step, lr, rng, dp);
    }

    @Override public Map<String, Tensor> state() { return model.state(); }

    @Override public void restored() { model.restored(); }

    @Override public String precisionId() { return model.precisionId(); }

    @Override
    public double[] pooledFeatures(Batch batch) {
        return layers ? model.layerFeatures(batch) : model.pooledFeatures(batch);
    }

    @Override
    public int featureDim() { return layers ? model.layerFeatureDim() : model.config().encoder().dim(); }

    @Override public Masker masker() { return model.masker(); }

    @Override
    public Data2Vec.Reconstruction reconstruct(Batch batch, MaskBatch masks, RandomStream rng) { return model.reconstruct(batch, masks, rng); }

    @Override public void close() { model.close(); }
}
