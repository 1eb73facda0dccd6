package org.d2v.eval;

import java.util.ArrayList;
import java.util.List;
import org.d2v.data.image.Images;
import org.d2v.data.image.LabeledImages;
import org.d2v.data2vec.Batch;

/** Labeled images (all of one size) as a {@link LabeledSet}: consecutive indices form a batch. */
public record ImageSet(LabeledImages data) implements LabeledSet {
    @Override public int size() { return data.size(); }

    @Override public int[] labels() { return data.labels(); }

    @Override public int classes() { return data.classes(); }

    @Override
    public String describe() {
        Images im = data.images();
        return data.size() + " images " + im.height() + "x" + im.width() + "x" + im.channels();
    }

    @Override
    public List<Group> groups(int[] indices, int maxBatch) {
        List<Group> out = new ArrayList<>();
        for (int first = 0; first < indices.length; first += maxBatch) {
            int[] idx = java.util.Arrays.copyOfRange(indices, first, Math.min(indices.length, first + maxBatch));
            out.add(new Group(idx, batch(idx)));
        }
        return out;
    }

    private Batch.Images batch(int[] idx) {
        Images im = data.images();
        int size = im.imageSize();
        float[] px = new float[idx.length * size];
        for (int i = 0; i < idx.length; i++) System.arraycopy(im.pixels(), idx[i] * size, px, i * size, size);
        return new Batch.Images(idx.length, im.height(), im.width(), im.channels(), px);
    }

    @Override
    public ImageSet subset(int[] indices) {
        Images im = data.images();
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) labels[i] = data.labels()[indices[i]];
        return new ImageSet(new LabeledImages(new Images(indices.length, im.height(), im.width(), im.channels(), batch(indices).pixels()),
                labels, data.classes()));
    }

    /** The pixels of every image, row-major [size × pixels]. */
    public float[] pixels() { return data.images().pixels(); }

    /** Side of the pixel grid the raw-pixel floor uses at most (a probe on 224×224×3 raw pixels would not fit). */
    public static final int FLOOR_GRID = 32;

    /**
     * The raw-pixel floor's features: the pixels themselves for images up to
     * {@link #FLOOR_GRID}² pixels (28×28 Fashion-MNIST included), else each channel average-pooled
     * over k × k blocks, k = ceil(side / 32), to at most 32 × 32.
     */
    public float[] floorPixels() {
        Images im = data.images();
        int k = floorPool(im);
        if (k == 1) return im.pixels();
        int h = im.height() / k, w = im.width() / k, c = im.channels(), dim = h * w * c;
        float[] out = new float[im.count() * dim];
        for (int n = 0; n < im.count(); n++) {
            for (int y = 0; y < h * k; y++) {
                for (int x = 0; x < w * k; x++) {
                    for (int ch = 0; ch < c; ch++) out[n * dim + ((y / k) * w + x / k) * c + ch] += im.pixel(n, y, x, ch) / (k * k);
                }
            }
        }
        return out;
    }

    /** Values per image of {@link #floorPixels()}. */
    public int floorDim() {
        Images im = data.images();
        int k = floorPool(im);
        return (im.height() / k) * (im.width() / k) * im.channels();
    }

    private static int floorPool(Images im) {
        int side = Math.max(im.height(), im.width());
        return side <= FLOOR_GRID ? 1 : (side + FLOOR_GRID - 1) / FLOOR_GRID;
    }
}
