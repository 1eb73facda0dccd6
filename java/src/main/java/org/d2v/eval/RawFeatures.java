package org.d2v.eval;

import java.util.List;

/**
 * Features that involve no learning, computed for a train/test pair: the floor a learned
 * representation must beat under the same probe (docs/data.md). Fitted parts (the bag-of-words
 * vocabulary) come from the training split only.
 */
public interface RawFeatures {
    /** Row-major feature matrices of both splits. */
    record Matrices(float[] train, float[] test, int dim) {}

    /** What the features are ("raw pixels", "log-spectrum 256-d", "bag of words"). */
    String name();

    Matrices of(LabeledSet train, LabeledSet test);

    /** The images' pixels (average-pooled to at most 32 × 32 for larger images, {@link ImageSet#floorPixels}). */
    static RawFeatures pixels() {
        return new RawFeatures() {
            @Override public String name() { return "raw pixels"; }

            @Override
            public Matrices of(LabeledSet train, LabeledSet test) {
                ImageSet a = (ImageSet) train, b = (ImageSet) test;
                return new Matrices(a.floorPixels(), b.floorPixels(), a.floorDim());
            }
        };
    }

    /** {@link SpectralFeatures} of each clip: log band energies averaged over the clip and over equal stretches of it. */
    static RawFeatures logSpectrum(int bands, int segments) {
        int dim = SpectralFeatures.dim(bands, segments);
        return new RawFeatures() {
            @Override public String name() { return "log-spectrum " + dim + "-d"; }

            @Override
            public Matrices of(LabeledSet train, LabeledSet test) {
                return new Matrices(spectra((SpeechSet) train), spectra((SpeechSet) test), dim);
            }

            private float[] spectra(SpeechSet s) {
                float[] x = new float[s.size() * dim];
                for (int i = 0; i < s.size(); i++) System.arraycopy(SpectralFeatures.of(s.waves().get(i), bands, segments), 0, x, i * dim, dim);
                return x;
            }
        };
    }

    /** Binary bag of words over the training texts' vocabulary. */
    static RawFeatures bagOfWords() {
        return new RawFeatures() {
            @Override public String name() { return "bag of words"; }

            @Override
            public Matrices of(LabeledSet train, LabeledSet test) {
                List<String> tr = ((TextSet) train).texts(), te = ((TextSet) test).texts();
                BagOfWords bow = BagOfWords.fit(tr);
                return new Matrices(bow.transform(tr), bow.transform(te), bow.dim());
            }
        };
    }
}
