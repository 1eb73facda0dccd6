package org.d2v.data.audio;

import org.d2v.data.DataFormatException;
import org.d2v.data.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SpeechSetsTest {
    @TempDir Path tmp;

    @Test
    void heldOutVoicesNeverShareAVoiceWithTraining() throws IOException {
        List<String> rows = new ArrayList<>();
        String[] voices = {"espeak/en-us+m1", "espeak/en-gb-scotland+m1", "espeak/en-us+klatt", "espeak/en-029+klatt", "flite/slt", "flite/awb"};
        for (String v : voices) {
            for (int d = 0; d < 10; d++) rows.add(v.replace('+', '_') + "/" + d + ".wav\t" + d + "\t" + v.split("/")[0] + "\t" + v + "\ts130-p35");
        }
        Path index = tmp.resolve("index.tsv");
        Files.write(index, rows);
        List<SpokenDigit> all = SpeechSets.readDigitIndex(index);
        assertEquals(60, all.size());
        assertEquals(tmp.resolve("flite/slt/3.wav"), all.get(43).file());
        assertEquals(3, all.get(43).digit());
        Split<SpokenDigit> s = SpeechSets.heldOutVoices(all);
        Set<String> train = new HashSet<>(), test = new HashSet<>();
        s.train().forEach(c -> train.add(c.voice()));
        s.test().forEach(c -> test.add(c.voice()));
        assertEquals(Set.of("espeak/en-us+klatt", "espeak/en-029+klatt", "flite/slt"), test);
        assertEquals(Set.of("espeak/en-us+m1", "espeak/en-gb-scotland+m1", "flite/awb"), train);
        assertEquals(30, s.test().size());
        Split<SpokenDigit> accent = SpeechSets.heldOutVoices(all, java.util.List.of("espeak/en-gb-scotland+"));
        assertEquals(10, accent.test().size());
        assertTrue(SpeechSets.inGroup("espeak/en-us+f4", "+f4"));
        assertFalse(SpeechSets.inGroup("espeak/en-us+f4", "+f"));
        assertFalse(SpeechSets.inGroup("flite/awb", "flite/slt"));
    }

    @Test
    void badIndexRowsNameTheFile() throws IOException {
        Path index = tmp.resolve("index.tsv");
        Files.writeString(index, "a.wav\t3\tespeak\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> SpeechSets.readDigitIndex(index));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("3 columns"), e.getMessage());
        Files.writeString(index, "a.wav\tseven\tespeak\tespeak/en\tp\n");
        e = assertThrows(DataFormatException.class, () -> SpeechSets.readDigitIndex(index));
        assertTrue(e.getMessage().contains("not a number"), e.getMessage());
        e = assertThrows(DataFormatException.class, () -> SpeechSets.spokenDigits(tmp));
        assertTrue(e.getMessage().contains("not installed"), e.getMessage());
    }
}
