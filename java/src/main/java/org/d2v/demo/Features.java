package org.d2v.demo;

import org.d2v.eval.LabeledSet;

/** Frozen features for the probe, extracted in batches (one forward per group of equal-shaped inputs, not per example). */
public final class Features {
    /** Inputs per forward: large enough to amortise launches, small enough for any device. */
    public static final int BATCH = 500;

    private Features() {}

    /** Features of every example of {@code set}, in the set's order: [size × model.featureDim()] row-major. */
    public static float[] pooled(FeatureModel model, LabeledSet set) {
        int dim = model.featureDim();
        float[] out = new float[set.size() * dim];
        for (LabeledSet.Group g : set.groups(set.all(), BATCH)) {
            double[] f = model.pooledFeatures(g.batch());
            if (f.length != g.examples().length * dim) {
                throw new IllegalStateException("model returned " + f.length + " feature values for " + g.examples().length + " inputs of width " + dim);
            }
            for (int i = 0; i < g.examples().length; i++) {
                int at = g.examples()[i] * dim;
                for (int c = 0; c < dim; c++) out[at + c] = (float) f[i * dim + c];
            }
        }
        return out;
    }
}
