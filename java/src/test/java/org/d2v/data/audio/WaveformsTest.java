package org.d2v.data.audio;

import org.d2v.backend.RandomStream;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class WaveformsTest {
    @Test
    void normalizeGivesZeroMeanUnitVariance() {
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) x[i] = 0.3f + 0.1f * (float) Math.sin(i * 0.1);
        float[] y = Waveforms.normalize(x);
        double m = 0, v = 0;
        for (float f : y) m += f;
        m /= y.length;
        for (float f : y) v += (f - m) * (f - m);
        assertEquals(0, m, 1e-5);
        assertEquals(1, v / y.length, 2e-3);
        for (float f : Waveforms.normalize(new float[10])) assertEquals(0f, f);
    }

    @Test
    void cropIsAReproducibleWindow() {
        float[] x = new float[100];
        for (int i = 0; i < 100; i++) x[i] = i;
        float[] a = Waveforms.randomCrop(x, 30, new RandomStream(3)), b = Waveforms.randomCrop(x, 30, new RandomStream(3));
        assertArrayEquals(a, b);
        assertEquals(30, a.length);
        for (int i = 1; i < 30; i++) assertEquals(a[0] + i, a[i]);
        assertEquals(100, Waveforms.randomCrop(x, 500, new RandomStream(3)).length);
    }
}
