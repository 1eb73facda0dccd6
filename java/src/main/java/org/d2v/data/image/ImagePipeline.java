package org.d2v.data.image;

import org.d2v.backend.RandomStream;

/**
 * The image transforms of fairseq's data2vec 2.0 image pipeline (MaeImageDataset) at any
 * model size, on images decoded by {@link ImageFiles}:
 * <ul>
 * <li>pretraining: RandomResizedCrop(size, scale (0.2, 1.0), ratio (3/4, 4/3), bicubic), then a
 *     horizontal flip with probability 1/2, then Normalize;</li>
 * <li>evaluation (probe, fine-tuning): the timm/fairseq eval transform with crop_pct 0.875 —
 *     the shorter side resized (bicubic) to floor(size / 0.875) (256 for 224), then the centre
 *     size × size crop, then Normalize.</li>
 * </ul>
 * Normalize uses ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) for three
 * channels. For one channel (grey presets: the image is first converted to PIL's luminance) there
 * is no published convention; we use the same luminance weights applied to ImageNet's statistics,
 * mean 0.4590 and std 0.2256, so grey and colour inputs land on the same scale.
 *
 * <p>Every random number comes from the {@link RandomStream} passed in (the batch's own stream),
 * so a resumed run draws the same crops and flips.
 */
public final class ImagePipeline {
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f}, IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    public static final float GREY_MEAN = (float) (0.299 * 0.485 + 0.587 * 0.456 + 0.114 * 0.406);
    public static final float GREY_STD = (float) (0.299 * 0.229 + 0.587 * 0.224 + 0.114 * 0.225);
    public static final double CROP_PCT = 0.875;

    private final int size, channels;
    private final ImageAugmenter crops = ImageAugmenter.pretraining();

    public ImagePipeline(int size, int channels) {
        if (size < 1 || (channels != 1 && channels != 3)) throw new IllegalArgumentException("image pipeline for " + size + "x" + size + "x" + channels);
        this.size = size;
        this.channels = channels;
    }

    public int size() { return size; }

    public int channels() { return channels; }

    /** Values per transformed image. */
    public int imageSize() { return size * size * channels; }

    /** Random resized crop + flip + normalise; the result is (size, size, channels). */
    public float[] pretrain(ImageFiles.Decoded im, RandomStream rng) {
        check(im);
        ImageAugmenter.Crop c = crops.sampleCrop(im.height(), im.width(), rng);
        float[] out = Bicubic.resize(im.pixels(), im.height(), im.width(), channels, c.top(), c.left(), c.height(), c.width(), size, size);
        if (rng.nextUniform() < 0.5) ImageAugmenter.flipHorizontal(out, size, size, channels);
        return normalize(out);
    }

    /** Shorter side to floor(size / 0.875), centre crop, normalise; the result is (size, size, channels). */
    public float[] eval(ImageFiles.Decoded im) {
        check(im);
        int resize = (int) (size / CROP_PCT);
        int h = im.height(), w = im.width();
        // torchvision Resize(int): the shorter side becomes `resize`, the longer keeps the aspect (truncated).
        int nh = h <= w ? resize : (int) ((long) resize * h / w), nw = h <= w ? (int) ((long) resize * w / h) : resize;
        float[] r = Bicubic.resize(im.pixels(), h, w, channels, nh, nw);
        // torchvision CenterCrop: offsets rounded half to even, as Python's round.
        int top = (int) Math.rint((nh - size) / 2.0), left = (int) Math.rint((nw - size) / 2.0);
        float[] out = new float[imageSize()];
        for (int y = 0; y < size; y++) System.arraycopy(r, ((top + y) * nw + left) * channels, out, y * size * channels, size * channels);
        return normalize(out);
    }

    /** Normalize in place with the channel statistics above; returns {@code x}. */
    public float[] normalize(float[] x) {
        for (int i = 0; i < x.length; i++) {
            int c = i % channels;
            x[i] = channels == 3 ? (x[i] - IMAGENET_MEAN[c]) / IMAGENET_STD[c] : (x[i] - GREY_MEAN) / GREY_STD;
        }
        return x;
    }

    private void check(ImageFiles.Decoded im) {
        if (im.channels() != channels) throw new IllegalArgumentException("image has " + im.channels() + " channels, the pipeline " + channels);
    }
}
