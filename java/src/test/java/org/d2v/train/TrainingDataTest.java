package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.d2v.data.TestData;
import org.d2v.data.audio.SpeechClip;
import org.d2v.data.image.Idx;
import org.d2v.data.image.Images;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Document;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.junit.jupiter.api.Test;

class TrainingDataTest {

    private static Images fashion() throws Exception {
        return Idx.readImages(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"));
    }

    @Test
    void imagesAreAugmentedStandardisedAndReplayAfterASeek() throws Exception {
        ModalityConfig.Image m = (ModalityConfig.Image) Presets.imageTiny().modality();
        try (BatchSource s = TrainingData.images(fashion(), m, 64, 3)) {
            float[][] seen = new float[5][];
            for (int i = 0; i < 5; i++) seen[i] = ((Batch.Images) s.next()).pixels(); // 200 / 64 = 3 per epoch: crosses an epoch
            assertEquals(5 * 64, s.position(), "positions count samples");
            s.seek(64);
            assertArrayEquals(seen[1], ((Batch.Images) s.next()).pixels());
            s.seek(4 * 64);
            assertArrayEquals(seen[4], ((Batch.Images) s.next()).pixels());
            assertFalse(Arrays.equals(seen[0], seen[3]), "a new epoch has a new order and new augmentations");
            double sum = 0, sum2 = 0;
            for (float v : seen[0]) { sum += v; sum2 += v * v; }
            double mean = sum / seen[0].length, std = Math.sqrt(sum2 / seen[0].length - mean * mean);
            assertEquals(0, mean, 0.3);
            assertEquals(1, std, 0.3);
        }
    }

    @Test
    void idxImagesOfAnotherSizeAreResampledToThePreset() throws Exception {
        ModalityConfig.Image base = (ModalityConfig.Image) Presets.imageBase().modality();
        try (BatchSource s = TrainingData.images(fashion(), base, 2, 1)) {
            Batch.Images a = (Batch.Images) s.next();
            assertEquals(224, a.height());
            assertEquals(224, a.width());
            assertEquals(3, a.channels());
            for (int i = 0; i < a.pixels().length; i += 3) {
                assertEquals(a.pixels()[i] * 0.229f + 0.485f, a.pixels()[i + 1] * 0.224f + 0.456f, 1e-5, "grey replicated to RGB before normalising");
            }
            s.seek(0);
            assertArrayEquals(a.pixels(), ((Batch.Images) s.next()).pixels());
        }
    }

    @Test
    void audioBatchesFollowFairseqAndReplay() throws Exception {
        ModalityConfig.Audio tiny = (ModalityConfig.Audio) Presets.audioTiny().modality();
        ModalityConfig.Audio m = new ModalityConfig.Audio(12_000, tiny.stem(), tiny.convPosDepth(), tiny.convPosWidth(), tiny.convPosGroups(), 1.0, 1000);
        List<SpeechClip> clips = List.of(new SpeechClip(TestData.file("espeak-seven-16k.wav"), "t", "en"),
                new SpeechClip(TestData.file("flite-three-16k.wav"), "t", "en"));
        try (BatchSource s = TrainingData.audio(clips, m, 2, 9)) {
            Batch.Audio a = (Batch.Audio) s.next(), b = (Batch.Audio) s.next();
            assertEquals(2, a.size());
            assertEquals(11_831, a.samples(), "cropped to the batch's shortest clip (11831 < max_sample_size 12000)");
            double sum2 = 0;
            for (float v : a.waves()) sum2 += v * v;
            assertEquals(1, Math.sqrt(sum2 / a.waves().length), 0.1, "normalised per recording");
            s.seek(a.size());
            assertArrayEquals(b.waves(), ((Batch.Audio) s.next()).waves());
        }
        ModalityConfig.Audio tooLong = new ModalityConfig.Audio(400_000, tiny.stem(), tiny.convPosDepth(), tiny.convPosWidth(), tiny.convPosGroups(), 1.0, 100_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingData.audio(clips, tooLong, 2, 9));
        assertTrue(e.getMessage().contains("min_sample_size 100000"), e.getMessage());
    }

    @Test
    void textBlocksStartWithBosAndHoldTheCorpus() throws Exception {
        String corpus = Files.readString(TestData.file("brown-ca01-excerpt.txt"));
        BpeTokenizer bpe = BpeTokenizer.train(List.of(corpus), 320);
        ModalityConfig.Text m = new ModalityConfig.Text(16, 400, 18, 1, 0.1);
        try (BatchSource s = TrainingData.text(List.of(new Document("brown", "ca01", "", corpus)), bpe, m, 4, 2)) {
            Batch.Text t = (Batch.Text) s.next();
            assertEquals(4, t.size());
            assertEquals(16, t.length());
            for (int r = 0; r < 4; r++) {
                assertEquals(BpeTokenizer.BOS, t.tokens()[r * 16]);
                String decoded = bpe.decode(Arrays.copyOfRange(t.tokens(), r * 16 + 1, r * 16 + 16));
                assertTrue(decoded.length() > 0 && corpus.contains(decoded), "block " + r + ": " + decoded);
            }
            Batch.Text u = (Batch.Text) s.next();
            s.seek(4);
            assertArrayEquals(u.tokens(), ((Batch.Text) s.next()).tokens());
        }
    }

    @Test
    void missingDataFolderIsNamed() {
        org.d2v.data.DataFormatException e = assertThrows(org.d2v.data.DataFormatException.class,
                () -> TrainingData.open(Path.of("no-such-data").toString(), Presets.imageTiny(), 1));
        assertTrue(e.getMessage().contains("no-such-data"), e.getMessage());
    }
}
