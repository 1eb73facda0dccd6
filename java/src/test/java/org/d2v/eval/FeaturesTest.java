package org.d2v.eval;

import org.d2v.data.TestData;
import org.d2v.data.audio.Wav;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FeaturesTest {
    @Test
    void fftFindsTheToneBin() {
        double[] re = new double[512], im = new double[512];
        for (int i = 0; i < 512; i++) re[i] = Math.cos(2 * Math.PI * 37 * i / 512);
        SpectralFeatures.fft(re, im);
        int best = 0;
        for (int k = 0; k < 257; k++) if (Math.hypot(re[k], im[k]) > Math.hypot(re[best], im[best])) best = k;
        assertEquals(37, best);
        assertEquals(256, Math.hypot(re[37], im[37]), 1e-6);
    }

    @Test
    void spectralFeaturesOfRealClipsHaveTheRightSizeAndDiffer() throws IOException {
        float[] seven = SpectralFeatures.of(Wav.read(TestData.file("espeak-seven-16k.wav")), 64, 3);
        float[] three = SpectralFeatures.of(Wav.read(TestData.file("flite-three-16k.wav")), 64, 3);
        assertEquals(256, seven.length);
        assertEquals(SpectralFeatures.dim(64, 3), three.length);
        double diff = 0;
        for (int i = 0; i < 256; i++) {
            assertTrue(Float.isFinite(seven[i]));
            diff += Math.abs(seven[i] - three[i]);
        }
        assertTrue(diff > 10, "different words give different features: " + diff);
        assertEquals(64, SpectralFeatures.of(new float[100], 64, 0).length, "a clip shorter than a window still gives features");
    }

    @Test
    void bagOfWordsUsesTheTrainingVocabularyOnly() {
        BagOfWords bow = BagOfWords.fit(List.of("Great food!", "not great, not good"));
        assertEquals(4, bow.dim()); // great, food, not, good
        float[] x = bow.transform(List.of("GREAT movie, good"));
        assertArrayEquals(new float[] {1, 0, 0, 1}, x);
    }
}
