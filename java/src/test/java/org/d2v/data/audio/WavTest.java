package org.d2v.data.audio;

import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class WavTest {
    @TempDir Path tmp;

    @Test
    void readsSynthesizedClipsWithKnownSamples() throws IOException {
        float[] seven = Wav.read(TestData.file("espeak-seven-16k.wav"));
        assertEquals(11_831, seven.length); // sox reported 11831 samples
        assertEquals(-604 / 32768f, seven[1000]);
        assertEquals(-243 / 32768f, seven[5000]);
        float peak = 0;
        for (float s : seven) peak = Math.max(peak, Math.abs(s));
        assertEquals(15_687 / 32768f, peak);
        assertEquals(14_800, Wav.read(TestData.file("flite-three-16k.wav")).length);
    }

    @Test
    void wrongRateAndStereoAreRejectedByName() {
        Path r22 = TestData.file("espeak-two-22k.wav");
        DataFormatException e = assertThrows(DataFormatException.class, () -> Wav.read(r22));
        assertTrue(e.getMessage().startsWith(r22.toString()) && e.getMessage().contains("22050 Hz"), e.getMessage());
        Path st = TestData.file("stereo-seven-16k.wav");
        e = assertThrows(DataFormatException.class, () -> Wav.read(st));
        assertTrue(e.getMessage().contains(st.toString()) && e.getMessage().contains("2 channels"), e.getMessage());
        assertDoesNotThrow(() -> Wav.read(r22, 22_050));
    }

    @Test
    void truncatedNonWavAndMissingFiles() throws IOException {
        byte[] all = Files.readAllBytes(TestData.file("espeak-seven-16k.wav"));
        Path cut = tmp.resolve("cut.wav");
        Files.write(cut, Arrays.copyOf(all, all.length - 1000));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Wav.read(cut));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        Files.write(cut, Arrays.copyOf(all, 30));
        e = assertThrows(DataFormatException.class, () -> Wav.read(cut));
        assertTrue(e.getMessage().contains("truncated fmt"), e.getMessage());
        Path txt = tmp.resolve("notes.wav");
        Files.writeString(txt, "this is text, not audio");
        e = assertThrows(DataFormatException.class, () -> Wav.read(txt));
        assertTrue(e.getMessage().contains(txt.toString()) && e.getMessage().contains("not a WAV"), e.getMessage());
        e = assertThrows(DataFormatException.class, () -> Wav.read(tmp.resolve("missing.wav")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void writeReadRoundTrip() throws IOException {
        float[] x = new float[1234];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.05) * 0.5f;
        Path p = tmp.resolve("sine.wav");
        Wav.write(p, x, 16_000);
        float[] back = Wav.read(p);
        assertEquals(x.length, back.length);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], back[i], 1.0 / 32768);
    }
}
