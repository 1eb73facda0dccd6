package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.eval.LabeledSet;
import org.junit.jupiter.api.Test;

/**
 * Probe features of clips and sentences of different lengths, extracted in equal-length groups,
 * equal the features of each example encoded alone: grouping neither pads nor mixes examples.
 */
class VariableLengthFeaturesTest {
    @Test
    void speechFeaturesInGroupsEqualEachClipAlone() {
        check(Presets.audioMicro(), SyntheticSets.tones(9, 1200, 4).subset(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 2, 2}));
    }

    @Test
    void textFeaturesInGroupsEqualEachSentenceAlone() {
        check(Presets.textMicro(), SyntheticSets.texts(12, 5, SyntheticSets.tokenizer(), 32));
    }

    private static void check(Data2VecConfig cfg, LabeledSet set) {
        try (Device device = Backends.open("reference"); Data2Vec model = new Data2Vec(device, cfg)) {
            // One update so that every layer is off its initialisation.
            model.trainStep(set.groups(set.all(), 4).get(set.groups(set.all(), 4).size() - 1).batch(), 1, 1e-2, new RandomStream(1));
            FeatureModel layers = new Data2VecFeatures(model, true);
            float[] grouped = Features.pooled(layers, set);
            int dim = layers.featureDim(), groups = set.groups(set.all(), Features.BATCH).size();
            assertTrue(groups > 1 && groups < set.size(), groups + " groups for " + set.size() + " examples");
            for (int i = 0; i < set.size(); i++) {
                double[] alone = layers.pooledFeatures(set.groups(new int[] {i}, 1).get(0).batch());
                for (int c = 0; c < dim; c++) assertEquals(alone[c], grouped[i * dim + c], 1e-6, "example " + i + " feature " + c);
            }
        }
    }
}
