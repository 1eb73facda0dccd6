package org.d2v.data2vec.mask;

import static org.junit.jupiter.api.Assertions.*;

import org.d2v.backend.RandomStream;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.junit.jupiter.api.Test;

class MaskersTest {
    private static MaskBatch sample(Data2VecConfig c, int rows) {
        return Maskers.of(c.mask(), c.modality()).sample(rows, c.modality().tokens(), new RandomStream(1));
    }

    @Test
    void basePresetsGiveTheSpecCounts() {
        assertEquals(157, sample(Presets.imageBase(), 16).masked()); // 39 of 196 visible
        assertEquals(246, sample(Presets.textBase(), 8).masked());   // 266 of 512 kept
        Data2VecConfig audio = Presets.audioBase();
        int frames = audio.modality().tokens();
        assertEquals(Math.round(0.5 * frames), sample(audio, 2).masked());
    }

    @Test
    void eachModalityGetsItsMasker() {
        assertInstanceOf(InverseBlockMasker2d.class, Maskers.of(Presets.imageTiny().mask(), Presets.imageTiny().modality()));
        assertInstanceOf(SpanMasker1d.class, Maskers.of(Presets.audioTiny().mask(), Presets.audioTiny().modality()));
        assertInstanceOf(RandomMasker.class, Maskers.of(Presets.textTiny().mask(), Presets.textTiny().modality()));
        for (Data2VecConfig c : new Data2VecConfig[] {Presets.imageTiny(), Presets.audioTiny(), Presets.textTiny()}) {
            MaskBatch b = sample(c, 4);
            assertTrue(b.masked() > 0 && b.kept() > 0, c.name());
        }
    }
}
