package org.d2v.data.image;

/**
 * A stack of images as one plain float array in (n, height, width, channels) order (channels
 * last, the layout of ConvDesc), values in [0, 1].
 */
public record Images(int count, int height, int width, int channels, float[] pixels) {
    public Images {
        if (count < 0 || height <= 0 || width <= 0 || channels <= 0) {
            throw new IllegalArgumentException("bad image shape " + count + "x" + height + "x" + width + "x" + channels);
        }
        if ((long) count * height * width * channels != pixels.length) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " values, shape needs "
                    + (long) count * height * width * channels);
        }
    }

    /** Values per image. */
    public int imageSize() { return height * width * channels; }

    public float pixel(int n, int y, int x, int c) {
        return pixels[((n * height + y) * width + x) * channels + c];
    }

    /** A copy of image {@code n}. */
    public float[] image(int n) {
        float[] out = new float[imageSize()];
        System.arraycopy(pixels, n * imageSize(), out, 0, out.length);
        return out;
    }

    /** The first {@code n} images (a copy). */
    public Images head(int n) {
        if (n > count) throw new IllegalArgumentException("asked for " + n + " of " + count + " images");
        float[] p = new float[n * imageSize()];
        System.arraycopy(pixels, 0, p, 0, p.length);
        return new Images(n, height, width, channels, p);
    }
}
