package org.d2v.demo;

import java.util.SplittableRandom;
import org.d2v.data.batch.BatchLoader;
import org.d2v.data.image.Images;
import org.d2v.data2vec.Batch;
import org.d2v.train.BatchSource;

/**
 * Pretraining batches from a set of images: each epoch a seeded permutation, consecutive slices of
 * it as batches (the last incomplete slice is skipped), and a random horizontal flip per image.
 * The position is the number of batches served, and batch p depends only on the seed and p, so a
 * resumed run sees exactly the same batches.
 */
public final class ImageBatches implements BatchSource {
    private final Images images;
    private final int batchSize;
    private final long seed;
    private final boolean flip;
    private final int perEpoch;
    private long position;
    private long permutedEpoch = -1;
    private int[] permutation;

    public ImageBatches(Images images, int batchSize, long seed, boolean flip) {
        if (batchSize < 1 || batchSize > images.count()) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be in [1, " + images.count() + "]");
        }
        this.images = images;
        this.batchSize = batchSize;
        this.seed = seed;
        this.flip = flip;
        this.perEpoch = images.count() / batchSize;
    }

    @Override
    public Batch next() {
        long epoch = position / perEpoch;
        int first = (int) (position % perEpoch) * batchSize;
        if (epoch != permutedEpoch) {
            permutation = BatchLoader.permutation(seed, epoch, images.count());
            permutedEpoch = epoch;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + position);
        int h = images.height(), w = images.width(), c = images.channels(), size = h * w * c;
        float[] out = new float[batchSize * size];
        for (int i = 0; i < batchSize; i++) {
            int src = permutation[first + i];
            System.arraycopy(images.pixels(), src * size, out, i * size, size);
            if (flip && rng.nextBoolean()) flipRow(out, i * size, h, w, c);
        }
        position++;
        return new Batch.Images(batchSize, h, w, c, out);
    }

    private static void flipRow(float[] img, int offset, int h, int w, int c) {
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w / 2; x++) {
                for (int k = 0; k < c; k++) {
                    int a = offset + (y * w + x) * c + k, b = offset + (y * w + (w - 1 - x)) * c + k;
                    float t = img[a];
                    img[a] = img[b];
                    img[b] = t;
                }
            }
        }
    }

    @Override public long position() { return position; }

    @Override
    public void seek(long p) {
        if (p < 0) throw new IllegalArgumentException("negative data position " + p);
        position = p;
    }

    @Override
    public String describe() {
        return images.count() + " images " + images.height() + "x" + images.width() + ", batch " + batchSize + (flip ? ", random flips" : "");
    }
}
