package org.d2v.demo;

import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.mask.Masker;
import org.d2v.tensor.Tensor;
import org.d2v.train.StepStats;

/** The data2vec 2.0 model seen as a {@link FeatureModel}: every call goes to the model. */
public final class Data2VecFeatures implements FeatureModel {
    private final Data2Vec model;

    public Data2VecFeatures(Data2Vec model) { this.model = model; }

    /** A new model of {@code config} on {@code device} (the demo's model factory). */
    public static FeatureModel create(Data2VecConfig config, Device device) { return new Data2VecFeatures(new Data2Vec(device, config)); }

    public Data2Vec model() { return model; }

    @Override public Device device() { return model.device(); }

    @Override public StepStats trainStep(Batch batch, long step, double lr, RandomStream rng) { return model.trainStep(batch, step, lr, rng); }

    @Override public Map<String, Tensor> state() { return model.state(); }

    @Override public double[] pooledFeatures(Batch batch) { return model.pooledFeatures(batch); }

    @Override public int featureDim() { return model.config().encoder().dim(); }

    @Override public Masker masker() { return model.masker(); }

    @Override public void close() { model.close(); }
}
