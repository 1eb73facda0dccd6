package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.tensor.DType;
import org.d2v.train.StepStats;
import org.junit.jupiter.api.Test;

/** The MAE-style ablation: per-patch normalised pixel targets, a decoder that predicts pixels, no teacher. */
class PixelTargetsTest {
    @Test
    void targetsAreEachPatchsPixelsNormalisedInGridOrder() {
        Data2VecConfig cfg = Presets.imageMicro().withPixelTargets(); // 28×28×1, patch 7, 4×4 grid
        float[] px = new float[2 * 28 * 28];
        for (int i = 0; i < px.length; i++) px[i] = (float) Math.sin(0.37 * i) + (i % 28) * 0.1f;
        double[] t = PixelTargets.of(new Batch.Images(2, 28, 28, 1, px), cfg);
        assertEquals(2 * 16 * 49, t.length);
        // Image 1, patch 6 = grid row 1, column 2: pixels of rows 7..13, columns 14..20.
        double[] raw = new double[49];
        for (int py = 0; py < 7; py++) for (int x = 0; x < 7; x++) raw[py * 7 + x] = px[28 * 28 + (7 + py) * 28 + 14 + x];
        double mean = java.util.Arrays.stream(raw).average().orElseThrow(), var = 0;
        for (double v : raw) var += (v - mean) * (v - mean) / 49;
        for (int k = 0; k < 49; k++) assertEquals((raw[k] - mean) / Math.sqrt(var + PixelTargets.EPS), t[(16 + 6) * 49 + k], 1e-9);
        for (int patch = 0; patch < 32; patch++) {
            double m = 0, v = 0;
            for (int k = 0; k < 49; k++) m += t[patch * 49 + k] / 49;
            for (int k = 0; k < 49; k++) v += (t[patch * 49 + k] - m) * (t[patch * 49 + k] - m) / 49;
            assertEquals(0, m, 1e-9, "patch " + patch + " mean");
            assertEquals(1, v, 1e-4, "patch " + patch + " variance");
        }
    }

    @Test
    void theDecoderPredictsPixelsAndTheTeacherNeverMoves() {
        Data2VecConfig cfg = Presets.imageMicro().withPixelTargets();
        assertTrue(cfg.loss().pixels());
        assertEquals(0, cfg.loss().clsWeight(), 0, "no CLS loss without a teacher");
        assertEquals(1.0 / 49, cfg.loss().scale(), 1e-15, "MAE's per-patch mean");
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
            assertEquals(49, m.parameters().get("decoder.proj.weight").dim(0), "one output per pixel of a patch");
            double[] teacher0 = m.teacherParameters().values().toDoubles();
            Batch b = TinyData.batch(cfg, new Random(3));
            RandomStream rng = new RandomStream(5);
            double first = 0, last = 0;
            for (int step = 1; step <= 30; step++) {
                StepStats s = m.trainStep(b, step, 3e-3, rng);
                assertTrue(Double.isFinite(s.loss()));
                assertEquals(0, s.cls(), 0);
                if (step == 1) first = s.loss();
                last = s.loss();
            }
            assertTrue(last < 0.7 * first, "the pixel loss falls on a fixed batch: " + first + " -> " + last);
            assertArrayEquals(teacher0, m.teacherParameters().values().toDoubles(), 0.0, "no EMA update with pixel targets");

            MaskBatch masks = m.masker().sample(b.size() * cfg.clones(), 16, new RandomStream(9));
            Data2Vec.Reconstruction r = m.reconstruct(b, masks, new RandomStream(9));
            assertEquals(49, r.width());
            assertArrayEquals(PixelTargets.of((Batch.Images) b, cfg), r.target(), 1e-12, "the reconstruction's targets are the pixel targets");
        }
    }

    @Test
    void onlyImageModelsHavePixelTargets() {
        assertThrows(IllegalArgumentException.class, () -> Presets.textMicro().withPixelTargets());
        assertFalse(Presets.imageMicro().loss().pixels());
    }
}
