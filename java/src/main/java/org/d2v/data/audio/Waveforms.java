package org.d2v.data.audio;

import org.d2v.backend.RandomStream;

/** Waveform preparation for audio pretraining (docs/algorithm.md §3.2 and §8). */
public final class Waveforms {
    private Waveforms() {}

    /** Zero mean and unit variance over the whole utterance ({@code task.normalize: true}); a silent clip stays zero. */
    public static float[] normalize(float[] x) {
        double mean = 0, var = 0;
        for (float v : x) mean += v;
        mean /= Math.max(1, x.length);
        for (float v : x) var += (v - mean) * (v - mean);
        var /= Math.max(1, x.length);
        double inv = 1 / Math.sqrt(var + 1e-5); // the epsilon of layer norm
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) ((x[i] - mean) * inv);
        return out;
    }

    /** A random window of at most {@code maxSamples} (the whole clip when shorter), start drawn from {@code rng}. */
    public static float[] randomCrop(float[] x, int maxSamples, RandomStream rng) {
        if (x.length <= maxSamples) return x.clone();
        int start = rng.nextInt(x.length - maxSamples + 1);
        float[] out = new float[maxSamples];
        System.arraycopy(x, start, out, 0, maxSamples);
        return out;
    }
}
