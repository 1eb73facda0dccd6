package org.d2v.demo;

import java.util.Map;
import java.util.function.BiFunction;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.mask.Masker;
import org.d2v.tensor.Tensor;
import org.d2v.train.StepStats;

/**
 * The data2vec 2.0 model seen as a {@link FeatureModel}: every call goes to the model. Its probe
 * features are either the final output mean-pooled over the patch tokens ({@link Data2Vec#pooledFeatures})
 * or, with {@code layers}, that plus the CLS token and each main block's mean-pooled FFN output
 * ({@link Data2Vec#layerFeatures}); the same extraction applies to a pretrained and a fresh model.
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

    public Data2Vec model() { return model; }

    @Override public Device device() { return model.device(); }

    @Override public StepStats trainStep(Batch batch, long step, double lr, RandomStream rng) { return model.trainStep(batch, step, lr, rng); }

    @Override public Map<String, Tensor> state() { return model.state(); }

    @Override
    public double[] pooledFeatures(Batch batch) {
        if (!layers) return model.pooledFeatures(batch);
        if (!(batch instanceof Batch.Images b)) throw new IllegalArgumentException("layer features are for images, got " + batch.getClass().getSimpleName());
        return model.layerFeatures(b);
    }

    @Override
    public int featureDim() {
        int d = model.config().encoder().dim();
        return layers ? (2 + model.config().encoder().depth()) * d : d;
    }

    @Override public Masker masker() { return model.masker(); }

    @Override public void close() { model.close(); }
}
