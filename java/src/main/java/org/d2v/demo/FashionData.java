package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import org.d2v.data.image.Split;
import org.d2v.data.image.ImageSets;
import org.d2v.data.image.Images;
import org.d2v.data.image.LabeledImages;

/**
 * Fashion-MNIST as the demo uses it: the official train and test splits, pixels standardised with
 * the train split's mean and standard deviation (one value for all pixels, so the images stay
 * images), and head subsets for the quick probes.
 */
public record FashionData(LabeledImages train, LabeledImages test, double mean, double std) {
    /** Reads both splits from the data folder written by {@code d2v data install}. */
    public static FashionData load(Path dataRoot) throws IOException {
        return of(ImageSets.fashionMnist(dataRoot, Split.TRAIN), ImageSets.fashionMnist(dataRoot, Split.TEST));
    }

    /** Standardises {@code train} and {@code test} with train's statistics. */
    public static FashionData of(LabeledImages train, LabeledImages test) {
        float[] p = train.images().pixels();
        double sum = 0, sq = 0;
        for (float v : p) {
            sum += v;
            sq += (double) v * v;
        }
        double mean = sum / p.length, std = Math.sqrt(Math.max(sq / p.length - mean * mean, 1e-12));
        return new FashionData(standardise(train, mean, std), standardise(test, mean, std), mean, std);
    }

    private static LabeledImages standardise(LabeledImages set, double mean, double std) {
        Images in = set.images();
        float[] out = new float[in.pixels().length];
        for (int i = 0; i < out.length; i++) out[i] = (float) ((in.pixels()[i] - mean) / std);
        return new LabeledImages(new Images(in.count(), in.height(), in.width(), in.channels(), out), set.labels(), set.classes());
    }
}
