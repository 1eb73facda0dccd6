package org.d2v.data.batch;

import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.ImageAugmenter;
import org.d2v.data.image.ImageBatch;
import org.d2v.data.image.LabeledImages;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class ImageBatchResumeTest {
    @Test
    void augmentedImageBatchesResumeExactly() throws IOException {
        LabeledImages d = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        var asm = ImageBatch.assembler(d, ImageAugmenter.pretraining());
        ImageBatch expected;
        DataPosition saved;
        try (BatchLoader<ImageBatch> a = new BatchLoader<>(d.size(), 32, 11, DataPosition.START, 2, asm)) {
            for (int i = 0; i < 7; i++) a.next();
            saved = a.position();
            expected = a.next();
        }
        try (BatchLoader<ImageBatch> b = new BatchLoader<>(d.size(), 32, 11, saved, 2, asm)) {
            ImageBatch got = b.next();
            assertArrayEquals(expected.indices(), got.indices());
            assertArrayEquals(expected.images().pixels(), got.images().pixels());
            assertArrayEquals(expected.labels(), got.labels());
        }
        assertEquals(32, expected.images().count());
        assertEquals(32 * 784, expected.images().pixels().length);
        for (int i = 0; i < 32; i++) assertEquals(d.labels()[expected.indices()[i]], expected.labels()[i]);
    }
}
