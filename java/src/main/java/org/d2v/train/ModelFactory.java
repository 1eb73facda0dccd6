package org.d2v.train;

import org.d2v.backend.Device;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;

/**
 * Builds the data2vec 2.0 model that {@code d2v pretrain} trains. The one place where the
 * pretraining loop meets the model's construction, so the loop itself depends only on
 * {@link TrainableModel}.
 */
public final class ModelFactory {
    private ModelFactory() {}

    /** Builds a model of a config on a device in a precision (the CLI's factories; tests pass stand-ins). */
    @FunctionalInterface
    public interface Maker {
        TrainableModel build(Data2VecConfig config, Device device, Precision precision);
    }

    /** The model of {@code config} on {@code device} in its default float type, initialised from {@code config.seed()}. */
    public static TrainableModel build(Data2VecConfig config, Device device) {
        return new Data2Vec(device, config);
    }

    /** The model of {@code config} on {@code device} with the mixed-precision policy {@code precision}. */
    public static TrainableModel build(Data2VecConfig config, Device device, Precision precision) {
        return new Data2Vec(device, config, precision);
    }
}
