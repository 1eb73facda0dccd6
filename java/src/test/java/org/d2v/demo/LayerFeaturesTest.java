package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;

/** The richer probe features: their layout, and that the probe's L2 is chosen without the test set. */
class LayerFeaturesTest {
    @Test
    void layerFeaturesStartWithTheFinalMeanPoolAndHaveOnePartPerBlock() throws Exception {
        LabeledImages imgs = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10).head(3);
        Data2VecConfig cfg = Presets.imageMicro();
        try (Device device = Backends.open("reference"); Data2Vec model = new Data2Vec(device, cfg)) {
            var images = imgs.images();
            Batch.Images batch = new Batch.Images(3, images.height(), images.width(), images.channels(), images.pixels());
            // One update so the blocks differ from their initialisation.
            model.trainStep(batch, 1, cfg.optim().lr(), new RandomStream(3));
            FeatureModel layers = new Data2VecFeatures(model, true), last = new Data2VecFeatures(model, false);
            int d = cfg.encoder().dim(), parts = 3 + cfg.encoder().depth(); // final, CLS, input, blocks
            assertEquals(parts * d, layers.featureDim());
            double[] all = layers.pooledFeatures(batch), fin = last.pooledFeatures(batch);
            assertEquals(3 * parts * d, all.length);
            for (int i = 0; i < 3; i++) {
                for (int c = 0; c < d; c++) assertEquals(fin[i * d + c], all[i * parts * d + c], 1e-6, "image " + i + " channel " + c);
            }
            // The CLS and block parts are not copies of the final pool.
            double diff = 0;
            for (int p = 1; p < parts; p++) for (int c = 0; c < d; c++) diff += Math.abs(all[p * d + c] - all[c]);
            assertTrue(diff > 1e-3, "parts equal the final pool");
        }
    }

    @Test
    void l2IsChosenFromTheGridOnHeldOutTrainingData() {
        // Two classes told apart by feature 0, plus 40 features of pure noise.
        int n = 60, dim = 41;
        java.util.Random r = new java.util.Random(7);
        float[] x = new float[n * dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            x[i * dim] = (float) ((y[i] == 1 ? 1 : -1) + 0.8 * r.nextGaussian());
            for (int j = 1; j < dim; j++) x[i * dim + j] = (float) r.nextGaussian();
        }
        double l2 = Probe.chooseL2(x, y, dim, 2);
        boolean inGrid = false;
        for (double g : Probe.L2_GRID) inGrid |= g == l2;
        assertTrue(inGrid, "chose " + l2);
        // Too few examples to hold any out per class: the default.
        assertEquals(Probe.L2_GRID[0], Probe.chooseL2(new float[4 * dim], new int[] {0, 1, 0, 1}, dim, 10));
    }
}
