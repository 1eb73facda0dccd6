package org.d2v.data.image;

import org.d2v.backend.RandomStream;

/**
 * The pretraining augmentations of docs/algorithm.md §8 for small images: a random resized crop (area fraction
 * uniform in [minScale, maxScale], aspect ratio log-uniform in [3/4, 4/3], torchvision's recipe)
 * resampled back to the input size, then a horizontal flip with probability 1/2.
 *
 * <p>Resampling is bilinear (half-pixel centres, like align_corners=False), not the bicubic of the
 * ImageNet recipe: at 28×28 the difference is below the quantisation of the source bytes and
 * bilinear never overshoots [0, 1]. Every random number comes from the {@link RandomStream}
 * passed in, so the same stream position gives the same augmented image.
 */
public final class ImageAugmenter {
    private static final double MIN_RATIO = 3.0 / 4.0, MAX_RATIO = 4.0 / 3.0;
    private static final int ATTEMPTS = 10;

    private final double minScale, maxScale;
    private final boolean flip;

    public ImageAugmenter(double minScale, double maxScale, boolean flip) {
        if (!(0 < minScale && minScale <= maxScale && maxScale <= 1)) {
            throw new IllegalArgumentException("need 0 < minScale <= maxScale <= 1, got " + minScale + ", " + maxScale);
        }
        this.minScale = minScale;
        this.maxScale = maxScale;
        this.flip = flip;
    }

    /** The paper's setting (docs/algorithm.md §8): scale (0.2, 1.0) and horizontal flips. */
    public static ImageAugmenter pretraining() { return new ImageAugmenter(0.2, 1.0, true); }

    /** A crop window in source pixels: rows [top, top+height), columns [left, left+width). */
    public record Crop(int top, int left, int height, int width) {}

    /** Augments every image of {@code in}; returns a new stack of the same shape. */
    public Images apply(Images in, RandomStream rng) {
        float[] out = new float[in.pixels().length];
        int size = in.imageSize();
        float[] one = new float[size];
        for (int n = 0; n < in.count(); n++) {
            System.arraycopy(in.pixels(), n * size, one, 0, size);
            System.arraycopy(apply(one, in.height(), in.width(), in.channels(), rng), 0, out, n * size, size);
        }
        return new Images(in.count(), in.height(), in.width(), in.channels(), out);
    }

    /** Augments one (h, w, c) channels-last image; returns a new array of the same size. */
    public float[] apply(float[] image, int h, int w, int c, RandomStream rng) {
        if (image.length != h * w * c) throw new IllegalArgumentException("image has " + image.length + " values, not " + h * w * c);
        float[] out = resize(image, h, w, c, sampleCrop(h, w, rng), h, w);
        if (flip && rng.nextUniform() < 0.5) flipHorizontal(out, h, w, c);
        return out;
    }

    /** Draws a crop window the way torchvision's RandomResizedCrop does (10 tries, then a centre crop). */
    public Crop sampleCrop(int h, int w, RandomStream rng) {
        double area = (double) h * w;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (minScale + (maxScale - minScale) * rng.nextUniform());
            double ratio = Math.exp(Math.log(MIN_RATIO) + (Math.log(MAX_RATIO) - Math.log(MIN_RATIO)) * rng.nextUniform());
            int cw = (int) Math.round(Math.sqrt(target * ratio));
            int ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
                int top = rng.nextInt(h - ch + 1);
                int left = rng.nextInt(w - cw + 1);
                return new Crop(top, left, ch, cw);
            }
        }
        double inRatio = (double) w / h;
        int cw = w, ch = h;
        if (inRatio < MIN_RATIO) ch = (int) Math.round(w / MIN_RATIO);
        else if (inRatio > MAX_RATIO) cw = (int) Math.round(h * MAX_RATIO);
        return new Crop((h - ch) / 2, (w - cw) / 2, ch, cw);
    }

    /** Bilinear resampling of the crop window to (outH, outW), half-pixel centres, edges clamped. */
    public static float[] resize(float[] src, int h, int w, int c, Crop crop, int outH, int outW) {
        float[] out = new float[outH * outW * c];
        double sy = (double) crop.height() / outH, sx = (double) crop.width() / outW;
        for (int oy = 0; oy < outH; oy++) {
            double fy = crop.top() + (oy + 0.5) * sy - 0.5;
            fy = Math.max(crop.top(), Math.min(crop.top() + crop.height() - 1, fy));
            int y0 = (int) Math.floor(fy);
            int y1 = Math.min(y0 + 1, crop.top() + crop.height() - 1);
            double ay = fy - y0;
            for (int ox = 0; ox < outW; ox++) {
                double fx = crop.left() + (ox + 0.5) * sx - 0.5;
                fx = Math.max(crop.left(), Math.min(crop.left() + crop.width() - 1, fx));
                int x0 = (int) Math.floor(fx);
                int x1 = Math.min(x0 + 1, crop.left() + crop.width() - 1);
                double ax = fx - x0;
                for (int ch = 0; ch < c; ch++) {
                    double top = src[(y0 * w + x0) * c + ch] * (1 - ax) + src[(y0 * w + x1) * c + ch] * ax;
                    double bot = src[(y1 * w + x0) * c + ch] * (1 - ax) + src[(y1 * w + x1) * c + ch] * ax;
                    out[(oy * outW + ox) * c + ch] = (float) (top * (1 - ay) + bot * ay);
                }
            }
        }
        return out;
    }

    /** Mirrors an (h, w, c) image left-right in place. */
    public static void flipHorizontal(float[] img, int h, int w, int c) {
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w / 2; x++) {
                int a = (y * w + x) * c, b = (y * w + (w - 1 - x)) * c;
                for (int ch = 0; ch < c; ch++) {
                    float t = img[a + ch];
                    img[a + ch] = img[b + ch];
                    img[b + ch] = t;
                }
            }
        }
    }
}
