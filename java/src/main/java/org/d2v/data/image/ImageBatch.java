package org.d2v.data.image;

import org.d2v.data.batch.BatchAssembler;

/** One batch of images, (batch, height, width, channels) channels-last, with their labels and dataset indices. */
public record ImageBatch(Images images, int[] labels, int[] indices) {
    /**
     * The assembler for a {@link org.d2v.data.batch.BatchLoader} over {@code data}: copies the chosen
     * images and, when {@code augmenter} is not null, augments each with the batch's own random stream.
     */
    public static BatchAssembler<ImageBatch> assembler(LabeledImages data, ImageAugmenter augmenter) {
        Images src = data.images();
        return (idx, rng) -> {
            int size = src.imageSize();
            float[] px = new float[idx.length * size];
            int[] labels = new int[idx.length];
            for (int b = 0; b < idx.length; b++) {
                float[] img = src.image(idx[b]);
                if (augmenter != null) img = augmenter.apply(img, src.height(), src.width(), src.channels(), rng);
                System.arraycopy(img, 0, px, b * size, size);
                labels[b] = data.labels()[idx[b]];
            }
            return new ImageBatch(new Images(idx.length, src.height(), src.width(), src.channels(), px), labels, idx.clone());
        };
    }
}
