package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.d2v.data.TestData;
import org.d2v.data.audio.SpeechClip;
import org.d2v.data.image.Idx;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.junit.jupiter.api.Test;

/**
 * Deterministic sharding: for any number of ranks and micro-batches, the parts every rank reads,
 * put side by side, are exactly the global batch an unsharded source gives (augmentations and
 * crops included), positions are global samples on every rank, and a run that seeks with another
 * sharding continues the same global batch sequence.
 */
class ShardingTest {
    @Test
    void partsCoverTheGlobalBatchInOrder() {
        Sharding s = new Sharding(1, 2, 3); // 6 parts; rank 1 takes parts 3, 4, 5
        assertEquals(6, s.parts());
        assertEquals(List.of(6, 8, 10), List.of(s.from(0, 12), s.from(1, 12), s.from(2, 12)));
        assertEquals(12, s.to(2, 12));
        Sharding uneven = new Sharding(0, 2, 2); // 7 samples in 4 parts: 1, 2, 2, 2
        assertEquals(List.of(0, 1, 1, 3), List.of(uneven.from(0, 7), uneven.to(0, 7), uneven.from(1, 7), uneven.to(1, 7)));
        assertEquals(0, new Sharding(0, 2, 2).to(0, 3), "fewer samples than parts: an empty part");
        assertThrows(IllegalArgumentException.class, () -> new Sharding(2, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sharding(0, 2, 0));
    }

    @Test
    void shardedImagesAreTheUnshardedGlobalBatches() throws Exception {
        var fashion = Idx.readImages(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"));
        ModalityConfig.Image tiny = (ModalityConfig.Image) Presets.imageTiny().modality();
        sameGlobalBatches(() -> TrainingData.images(fashion, tiny, 12, 5), 5); // 200 / 12 = 16 per epoch
        sameGlobalBatches(() -> GeneratedSource.images(6, 8, 3, 5), 3);
        sameGlobalBatches(() -> GeneratedSource.audio(4, 400, 5), 3);
        sameGlobalBatches(() -> GeneratedSource.text(6, 16, 50, 5), 3);
    }

    @Test
    void shardedAudioIsTheUnshardedGlobalBatchCroppedToItsShortestClip() throws Exception {
        ModalityConfig.Audio tiny = (ModalityConfig.Audio) Presets.audioTiny().modality();
        ModalityConfig.Audio m = new ModalityConfig.Audio(12_000, tiny.stem(), tiny.convPosDepth(), tiny.convPosWidth(), tiny.convPosGroups(), 1.0, 1000);
        List<SpeechClip> clips = List.of(new SpeechClip(TestData.file("espeak-seven-16k.wav"), "t", "en"),
                new SpeechClip(TestData.file("flite-three-16k.wav"), "t", "en"));
        sameGlobalBatches(() -> {
            try {
                return TrainingData.audio(clips, m, 2, 9); // one batch of 2 clips per epoch: 3 or 4 parts leave some empty
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, 3);
    }

    /** For 1, 2 and 3 ranks × 1 or 2 micro-batches: the same samples as one unsharded source, the same positions, and seeks across shardings. */
    private static void sameGlobalBatches(Supplier<BatchSource> open, int batches) {
        List<Batch> whole = new ArrayList<>();
        List<Long> positions = new ArrayList<>();
        try (BatchSource s = open.get()) {
            for (int i = 0; i < batches; i++) {
                whole.add(s.next());
                positions.add(s.position());
            }
        }
        for (int ranks = 1; ranks <= 3; ranks++) {
            for (int f = 1; f <= 2; f++) {
                List<BatchSource> sources = new ArrayList<>();
                try {
                    for (int r = 0; r < ranks; r++) {
                        BatchSource s = open.get();
                        s.shard(new Sharding(r, ranks, f));
                        sources.add(s);
                    }
                    for (int i = 0; i < batches; i++) {
                        List<BatchShare.Part> parts = new ArrayList<>();
                        for (BatchSource s : sources) {
                            BatchShare share = s.nextShare();
                            assertEquals(whole.get(i).size(), share.globalSamples());
                            assertEquals(f, share.parts().size());
                            parts.addAll(share.parts());
                            assertEquals(positions.get(i), s.position(), "positions count global samples on every rank");
                        }
                        String what = ranks + " ranks x " + f + ", batch " + i + " of " + sources.get(0).describe();
                        assertEquals(content(whole.get(i)), joined(parts, whole.get(i)), what);
                    }
                    // Resume with another sharding: rank 0 of 1 continues after batch 1 where the sharded ranks stood.
                    if (batches > 2) {
                        try (BatchSource later = open.get()) {
                            later.shard(new Sharding(0, 1, 2));
                            later.seek(positions.get(0));
                            BatchShare next = later.nextShare();
                            assertEquals(content(whole.get(1)), joined(next.parts(), whole.get(1)), "seek to " + positions.get(0) + " samples");
                        }
                    }
                } finally {
                    sources.forEach(BatchSource::close);
                }
            }
        }
    }

    /** The parts' samples in global order, in the whole batch's form (audio: the parts share its crop length). */
    private static String joined(List<BatchShare.Part> parts, Batch whole) {
        StringBuilder s = new StringBuilder();
        int next = 0;
        for (BatchShare.Part p : parts) {
            assertEquals(next, p.first(), "parts follow each other");
            next += p.size();
            if (p.size() > 0) s.append(content(p.batch()));
            if (p.batch() instanceof Batch.Audio a && whole instanceof Batch.Audio w) assertEquals(w.samples(), a.samples(), "the global batch's crop");
        }
        assertEquals(whole.size(), next);
        return s.toString();
    }

    private static String content(Batch b) {
        if (b instanceof Batch.Images i) return Arrays.toString(i.pixels()).replace("[", "").replace("]", ", ");
        if (b instanceof Batch.Audio a) return Arrays.toString(a.waves()).replace("[", "").replace("]", ", ");
        return Arrays.toString(((Batch.Text) b).tokens()).replace("[", "").replace("]", ", ");
    }
}
