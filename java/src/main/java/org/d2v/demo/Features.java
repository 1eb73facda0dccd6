package org.d2v.demo;

import org.d2v.data.image.Images;
import org.d2v.data2vec.Batch;

/** Frozen features for the probe, extracted in batches (one forward per batch, not per image). */
public final class Features {
    /** Images per forward: large enough to amortise launches, small enough for any device. */
    public static final int BATCH = 500;

    private Features() {}

    /** Pooled encoder features of every image: [count × model.featureDim()] row-major. */
    public static float[] pooled(FeatureModel model, Images images) {
        int dim = model.featureDim(), size = images.imageSize();
        float[] out = new float[images.count() * dim];
        for (int first = 0; first < images.count(); first += BATCH) {
            int n = Math.min(BATCH, images.count() - first);
            float[] px = new float[n * size];
            System.arraycopy(images.pixels(), first * size, px, 0, n * size);
            double[] f = model.pooledFeatures(new Batch.Images(n, images.height(), images.width(), images.channels(), px));
            if (f.length != n * dim) {
                throw new IllegalStateException("model returned " + f.length + " feature values for " + n + " images of width " + dim);
            }
            for (int i = 0; i < f.length; i++) out[first * dim + i] = (float) f[i];
        }
        return out;
    }
}
