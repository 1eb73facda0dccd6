package org.d2v.data.image;

/**
 * Bicubic resampling as PIL does it (torchvision's {@code interpolation=3} on PIL images, which
 * fairseq's image pipeline uses): a separable convolution with the cubic kernel a = -0.5 whose
 * support widens by the scale factor when shrinking (so a downscale averages, never aliases),
 * weights normalised per output pixel, first along rows then along columns, clamped to [0, 1]
 * after each pass. Values stay in float where PIL rounds to bytes after each pass, so results
 * differ from PIL's by about one byte level at most (ImagePipelineTest measures it against Pillow).
 */
public final class Bicubic {
    private static final double A = -0.5, SUPPORT = 2.0;

    private Bicubic() {}

    /**
     * Resamples the window rows [top, top + height), columns [left, left + width) of an
     * (h, w, c) image to (outH, outW, c).
     */
    public static float[] resize(float[] src, int h, int w, int c, int top, int left, int height, int width, int outH, int outW) {
        if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > h || left + width > w) {
            throw new IllegalArgumentException("crop " + top + "," + left + " " + height + "x" + width + " outside " + h + "x" + w);
        }
        Weights wx = weights(left, width, outW), wy = weights(top, height, outH);
        // Rows first, only over the source rows some output row reads.
        int y0 = wy.first[0], y1 = wy.first[outH - 1] + wy.count[outH - 1];
        double[] mid = new double[(y1 - y0) * outW * c];
        for (int y = y0; y < y1; y++) {
            for (int ox = 0; ox < outW; ox++) {
                int base = ((y - y0) * outW + ox) * c;
                for (int k = 0; k < wx.count[ox]; k++) {
                    double wt = wx.w[ox][k];
                    int s = (y * w + wx.first[ox] + k) * c;
                    for (int ch = 0; ch < c; ch++) mid[base + ch] += wt * src[s + ch];
                }
                // Clamp between the passes as PIL does (its first pass writes bytes): overshoot of the
                // cubic kernel at sharp edges must not feed the second pass.
                for (int ch = 0; ch < c; ch++) mid[base + ch] = Math.max(0, Math.min(1, mid[base + ch]));
            }
        }
        float[] out = new float[outH * outW * c];
        for (int oy = 0; oy < outH; oy++) {
            for (int ox = 0; ox < outW; ox++) {
                int o = (oy * outW + ox) * c;
                for (int ch = 0; ch < c; ch++) {
                    double v = 0;
                    for (int k = 0; k < wy.count[oy]; k++) v += wy.w[oy][k] * mid[((wy.first[oy] + k - y0) * outW + ox) * c + ch];
                    out[o + ch] = (float) Math.max(0, Math.min(1, v));
                }
            }
        }
        return out;
    }

    /** The whole image resized to (outH, outW). */
    public static float[] resize(float[] src, int h, int w, int c, int outH, int outW) {
        return resize(src, h, w, c, 0, 0, h, w, outH, outW);
    }

    private record Weights(int[] first, int[] count, double[][] w) {}

    /** Taps of each output position along one axis: the source window [start, start + length) mapped onto n outputs. */
    private static Weights weights(int start, int length, int n) {
        double scale = (double) length / n;
        double filterScale = Math.max(scale, 1.0);
        double support = SUPPORT * filterScale;
        int[] first = new int[n], count = new int[n];
        double[][] w = new double[n][];
        for (int i = 0; i < n; i++) {
            double center = start + (i + 0.5) * scale;
            int lo = Math.max((int) Math.floor(center - support + 0.5), start);
            int hi = Math.min((int) Math.floor(center + support + 0.5), start + length);
            double[] k = new double[Math.max(0, hi - lo)];
            double sum = 0;
            for (int j = 0; j < k.length; j++) {
                k[j] = cubic((lo + j - center + 0.5) / filterScale);
                sum += k[j];
            }
            if (sum != 0) for (int j = 0; j < k.length; j++) k[j] /= sum;
            first[i] = lo;
            count[i] = k.length;
            w[i] = k;
        }
        return new Weights(first, count, w);
    }

    private static double cubic(double x) {
        x = Math.abs(x);
        if (x < 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * A;
        return 0;
    }
}
