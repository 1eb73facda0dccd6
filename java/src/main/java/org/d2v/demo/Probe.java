package org.d2v.demo;

import org.d2v.data.image.LabeledImages;
import org.d2v.eval.LinearProbe;
import org.d2v.eval.ProbeResult;

/**
 * The linear probe of the demo (data's L-BFGS logistic regression on standardised features):
 * on a model's frozen pooled features, or on raw pixels as the floor.
 */
public final class Probe {
    private Probe() {}

    /** What one probe measured, and how long feature extraction and fitting took. */
    public record Outcome(String what, int trainSize, int testSize, double trainAccuracy, double testAccuracy, double seconds) {}

    public static Outcome encoder(String what, FeatureModel model, LabeledImages train, LabeledImages test) {
        long t0 = System.nanoTime();
        float[] tr = Features.pooled(model, train.images()), te = Features.pooled(model, test.images());
        return fit(what, tr, te, model.featureDim(), train, test, t0);
    }

    public static Outcome rawPixels(LabeledImages train, LabeledImages test) {
        return fit("raw pixels", train.images().pixels(), test.images().pixels(), train.images().imageSize(), train, test, System.nanoTime());
    }

    private static Outcome fit(String what, float[] tr, float[] te, int dim, LabeledImages train, LabeledImages test, long t0) {
        ProbeResult r = LinearProbe.builder().build().evaluate(tr, train.labels(), te, test.labels(), dim, train.classes());
        return new Outcome(what, train.size(), test.size(), r.trainAccuracy(), r.testAccuracy(), (System.nanoTime() - t0) / 1e9);
    }
}
