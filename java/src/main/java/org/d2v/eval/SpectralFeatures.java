package org.d2v.eval;

/**
 * Simple raw speech features for the floor: the log power spectrum of 25 ms Hann frames every
 * 10 ms (512-point FFT at 16 kHz), averaged into {@code bands} equal-width bands and then over
 * time, once over the whole clip and once over each of {@code segments} equal stretches (which
 * keeps a little of the order of the sounds). Dimension: bands × (1 + segments).
 */
public final class SpectralFeatures {
    private static final int WINDOW = 400, HOP = 160, FFT = 512;

    private SpectralFeatures() {}

    public static int dim(int bands, int segments) { return bands * (1 + segments); }

    public static float[] of(float[] samples, int bands, int segments) {
        float[][] frames = logBands(samples, bands);
        int t = frames.length;
        float[] out = new float[dim(bands, segments)];
        for (int b = 0; b < bands; b++) {
            double s = 0;
            for (float[] f : frames) s += f[b];
            out[b] = (float) (s / t);
        }
        for (int seg = 0; seg < segments; seg++) {
            int from = seg * t / segments, to = Math.max(from + 1, (seg + 1) * t / segments);
            for (int b = 0; b < bands; b++) {
                double s = 0;
                for (int i = from; i < Math.min(to, t); i++) s += frames[i][b];
                out[bands * (1 + seg) + b] = (float) (s / Math.max(1, Math.min(to, t) - from));
            }
        }
        return out;
    }

    /** (frames, bands) log band energies; a clip shorter than one window is zero-padded to one frame. */
    static float[][] logBands(float[] x, int bands) {
        int frames = Math.max(1, 1 + (x.length - WINDOW) / HOP);
        int bins = FFT / 2 + 1;
        float[][] out = new float[frames][bands];
        double[] re = new double[FFT], im = new double[FFT];
        for (int f = 0; f < frames; f++) {
            java.util.Arrays.fill(re, 0);
            java.util.Arrays.fill(im, 0);
            for (int i = 0; i < WINDOW; i++) {
                int at = f * HOP + i;
                double hann = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / WINDOW);
                re[i] = at < x.length ? x[at] * hann : 0;
            }
            fft(re, im);
            for (int b = 0; b < bands; b++) {
                int lo = b * bins / bands, hi = Math.max(lo + 1, (b + 1) * bins / bands);
                double p = 0;
                for (int k = lo; k < hi; k++) p += re[k] * re[k] + im[k] * im[k];
                out[f][b] = (float) Math.log(p / (hi - lo) + 1e-10);
            }
        }
        return out;
    }

    /** In-place iterative radix-2 FFT (length a power of two). */
    static void fft(double[] re, double[] im) {
        int n = re.length;
        for (int i = 1, j = 0; i < n; i++) {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) {
                double t = re[i]; re[i] = re[j]; re[j] = t;
                t = im[i]; im[i] = im[j]; im[j] = t;
            }
        }
        for (int len = 2; len <= n; len <<= 1) {
            double ang = -2 * Math.PI / len;
            for (int i = 0; i < n; i += len) {
                for (int k = 0; k < len / 2; k++) {
                    double wr = Math.cos(ang * k), wi = Math.sin(ang * k);
                    int a = i + k, b = i + k + len / 2;
                    double xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
        }
    }
}
