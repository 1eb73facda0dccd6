package org.d2v.data.image;

import org.d2v.backend.RandomStream;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class ImageAugmenterTest {
    static Images sample() throws IOException {
        return Idx.readImages(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz")).head(16);
    }

    @Test
    void keepsShapeAndRangeAndIsReproducibleFromTheSeed() throws IOException {
        Images in = sample();
        ImageAugmenter aug = ImageAugmenter.pretraining();
        Images a = aug.apply(in, new RandomStream(42));
        Images b = aug.apply(in, new RandomStream(42));
        Images c = aug.apply(in, new RandomStream(43));
        assertEquals(in.count(), a.count());
        assertEquals(28, a.height());
        assertEquals(28, a.width());
        assertEquals(1, a.channels());
        assertArrayEquals(a.pixels(), b.pixels());
        assertFalse(java.util.Arrays.equals(a.pixels(), c.pixels()));
        assertFalse(java.util.Arrays.equals(a.pixels(), in.pixels()));
        for (float v : a.pixels()) assertTrue(v >= 0 && v <= 1, "bilinear never leaves [0, 1]");
    }

    @Test
    void cropsRespectTheScaleRange() {
        ImageAugmenter aug = ImageAugmenter.pretraining();
        RandomStream rng = new RandomStream(7);
        double minArea = 1, maxArea = 0;
        for (int i = 0; i < 2000; i++) {
            ImageAugmenter.Crop c = aug.sampleCrop(28, 28, rng);
            assertTrue(c.top() >= 0 && c.left() >= 0 && c.top() + c.height() <= 28 && c.left() + c.width() <= 28, c.toString());
            double area = c.height() * c.width() / 784.0;
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
            double ratio = (double) c.width() / c.height();
            assertTrue(ratio > 0.6 && ratio < 1.6, "aspect ratio near [3/4, 4/3] after rounding: " + c);
        }
        assertTrue(minArea > 0.15 && minArea < 0.25, "smallest crop " + minArea);
        assertTrue(maxArea > 0.9, "largest crop " + maxArea);
    }

    @Test
    void fullWindowResizeIsIdentityAndFlipIsAnInvolution() throws IOException {
        Images in = sample();
        float[] img = in.image(3);
        assertArrayEquals(img, ImageAugmenter.resize(img, 28, 28, 1, new ImageAugmenter.Crop(0, 0, 28, 28), 28, 28));
        float[] f = img.clone();
        ImageAugmenter.flipHorizontal(f, 28, 28, 1);
        assertEquals(img[5 * 28 + 2], f[5 * 28 + 25]);
        ImageAugmenter.flipHorizontal(f, 28, 28, 1);
        assertArrayEquals(img, f);
    }

    @Test
    void upsamplingACropInterpolatesBetweenItsPixels() {
        // A 2x2 window with a horizontal ramp 0 .. 1 resized to 4x4: values rise monotonically left to right.
        float[] src = new float[28 * 28];
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) src[y * 28 + x] = x / 27f;
        float[] out = ImageAugmenter.resize(src, 28, 28, 1, new ImageAugmenter.Crop(10, 10, 2, 2), 4, 4);
        assertEquals(10 / 27f, out[0], 1e-6);
        assertEquals(11 / 27f, out[3], 1e-6);
        assertEquals(0.25 * 10 / 27f + 0.75 * 11 / 27f, out[2], 1e-6);
        assertTrue(out[1] > out[0] && out[2] > out[1]);
    }
}
