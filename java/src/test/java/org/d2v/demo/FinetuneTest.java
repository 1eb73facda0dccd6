package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.LabeledImages;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Scope;
import org.d2v.eval.ImageSet;
import org.junit.jupiter.api.Test;

class FinetuneTest {
    private static LabeledImages testImages() throws Exception {
        LabeledImages all = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        return FashionData.of(all, all).train();
    }

    /** The classifier's encoder, loaded from a (briefly trained) data2vec student, pools exactly what the student pools. */
    @Test
    void loadedEncoderReproducesThePretrainedModelsFeatures() throws Exception {
        LabeledImages imgs = testImages().head(6);
        Data2VecConfig cfg = Presets.imageMicro();
        try (Device dev = Backends.open("reference"); Data2Vec d2v = new Data2Vec(dev, cfg)) {
            RandomStream rng = new RandomStream(3);
            Batch.Images batch = new Batch.Images(6, 28, 28, 1, imgs.images().pixels());
            d2v.trainStep(batch, 1, 1e-2, rng); // move the weights off their initialisation
            d2v.trainStep(batch, 2, 1e-2, rng);
            double[] expected = d2v.pooledFeatures(batch);

            Map<String, double[]> ckpt = new HashMap<>();
            d2v.state().forEach((k, v) -> ckpt.put(k, v.toDoubles()));
            ParameterStore.Builder b = ParameterStore.builder();
            Classifier clf = new Classifier(b, cfg, 10);
            try (Scope s = Scope.open(); ParameterStore store = b.build(dev, dev.defaultFloat(), 7)) {
                Classifier.loadEncoder(store, ckpt, "test");
                clf.eval();
                assertArrayEquals(expected, clf.pooled(batch).toDoubles(), 1e-9);
                ckpt.remove("student.blocks.1.mlp.fc2.weight");
                ckpt.keySet().removeIf(k -> k.startsWith("student.blocks.1."));
                assertThrows(IllegalArgumentException.class, () -> Classifier.loadEncoder(store, ckpt, "test"));
            }
        }
    }

    /** Every parameter trains: on 64 images the loss falls and the training images become well classified. */
    @Test
    void fineTuningFitsASmallSet() throws Exception {
        LabeledImages train = testImages().head(64);
        Data2VecConfig cfg = Presets.imageMicro();
        ParameterStore.Builder b = ParameterStore.builder();
        Classifier clf = new Classifier(b, cfg, 10);
        try (Device dev = Backends.open("reference"); Scope s = Scope.open(); ParameterStore store = b.build(dev, dev.defaultFloat(), 1)) {
            double[] before = store.get("blocks.0.mlp.fc1.weight").toDoubles();
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            ImageSet set = new ImageSet(train);
            Finetune.Result r = Finetune.run(clf, store, set, set, new Finetune.Options(10, 16, 5e-3, 0.0, 0.1, 4, 1),
                    new PrintStream(log, true));
            assertEquals(10 * 4, r.updates());
            assertTrue(r.lastEpochLoss() < 0.7 * r.firstEpochLoss(), "loss " + r.firstEpochLoss() + " -> " + r.lastEpochLoss());
            assertTrue(r.testAccuracy()[9] > 0.5, "accuracy on the training images " + r.testAccuracy()[9]);
            double[] after = store.get("blocks.0.mlp.fc1.weight").toDoubles();
            double moved = 0;
            for (int i = 0; i < after.length; i++) moved += Math.abs(after[i] - before[i]);
            assertTrue(moved > 0, "the encoder did not train");
            assertTrue(log.toString().contains("epoch 10/10"), log.toString());
        }
    }
}
