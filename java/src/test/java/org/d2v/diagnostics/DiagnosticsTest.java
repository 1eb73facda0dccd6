package org.d2v.diagnostics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.eval.LabeledSet;
import org.d2v.tensor.DType;
import org.junit.jupiter.api.Test;

/** The diagnostics pass on the micro models (reference backend, float64). */
class DiagnosticsTest {
    @Test
    void theTeacherViewRebuildsTheTrainingTargetsExactly() {
        for (Data2VecConfig cfg : List.of(Presets.imageMicro(), Presets.textMicro())) {
            try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
                trainSteps(m, cfg, 2); // the teacher differs from the student now
                Batch batch = batch(cfg, 3, new Random(9));
                int t = m.tokens(batch), d = cfg.encoder().dim(), b = batch.size(), k = cfg.loss().topK();
                MaskBatch masks = m.masker().sample(b * cfg.clones(), t, new RandomStream(4));
                double[] want = m.reconstruct(batch, masks, new RandomStream(5)).target();
                List<double[]> ffn;
                try (TeacherView v = new TeacherView(m)) {
                    ffn = v.ffn(batch);
                }
                double[] y = new double[b * t * d];
                for (double[] a : ffn.subList(ffn.size() - k, ffn.size())) {
                    double[] n = ActivationStats.instanceNorm(a, b, t, d);
                    for (int i = 0; i < y.length; i++) y[i] += n[i] / k;
                }
                if (cfg.loss().layerNormTargets()) layerNorm(y, d);
                for (int i = 0; i < y.length; i++) assertEquals(want[i], y[i], 1e-9, cfg.name() + " target element " + i);
            }
        }
    }

    @Test
    void measuresFiniteStatisticsAndTheTeacherMovingAway() {
        Data2VecConfig cfg = Presets.textMicro();
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
            Diagnostics diag = new Diagnostics(heldOut(cfg, 12), 7, batch(cfg, 6, new Random(30)));
            Snapshot s0 = diag.measure(m, 0);
            assertEquals(0, s0.teacherDistance(), 0, "the teacher starts as the student");
            assertEquals(cfg.loss().topK(), s0.layers().size());
            assertEquals(cfg.encoder().depth() - 1, s0.layers().get(s0.layers().size() - 1).block());
            for (Snapshot.Layer l : s0.layers()) {
                assertTrue(l.rawOverPositions() > 0 && l.rawOverChannels() > 0, l.toString());
                // At most 1: the instance norm's eps (1e-5) shrinks channels whose raw variance is not far above it.
                assertTrue(l.normOverPositions() > 0.5 && l.normOverPositions() <= 1, "variance over positions after the instance norm: " + l);
            }
            int dim = cfg.encoder().dim();
            assertTrue(s0.featureRank() > 1 && s0.featureRank() <= dim, "feature rank " + s0.featureRank());
            assertTrue(s0.targetRank() > 1 && s0.targetRank() <= dim, "target rank " + s0.targetRank());
            assertTrue(s0.targetStd() > 0.1 && s0.predStd() > 0, s0.toString());
            assertTrue(s0.positionShare() > 0 && s0.positionShare() < 1, "position share " + s0.positionShare());
            assertTrue(Double.isNaN(new Diagnostics(heldOut(cfg, 4), 7).measure(m, 0).positionShare()), "no pretraining batch, no share");
            assertEquals(s0.featureRank(), diag.measure(m, 0).featureRank(), 0, "fixed inputs: the same model measures the same");
            trainSteps(m, cfg, 3);
            Snapshot s3 = diag.measure(m, 3);
            assertTrue(s3.teacherDistance() > 0 && s3.teacherDistance() < 1, "teacher-student distance " + s3.teacherDistance());
            assertEquals(s3.teacherDistance(), Diagnostics.teacherDistance(m), 0);
        }
    }

    @Test
    void measuringLeavesEveryTensorOfTheModelAsItWas() {
        // The diagnostics pass must not change what a run trains: student, teacher and Adam moments stay bit-identical.
        for (Data2VecConfig cfg : List.of(Presets.imageMicro(), Presets.textMicro())) {
            try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
                trainSteps(m, cfg, 2);
                java.util.Map<String, double[]> before = new java.util.LinkedHashMap<>();
                m.state().forEach((k, v) -> before.put(k, v.toDoubles()));
                new Diagnostics(heldOut(cfg, 8), 3).measure(m, 2);
                m.state().forEach((k, v) -> org.junit.jupiter.api.Assertions.assertArrayEquals(before.get(k), v.toDoubles(), 0.0, cfg.name() + " " + k));
            }
        }
    }

    private static void trainSteps(Data2Vec m, Data2VecConfig cfg, int n) {
        RandomStream rng = new RandomStream(11);
        Random r = new Random(12);
        for (int s = 1; s <= n; s++) m.trainStep(batch(cfg, cfg.batchSize(), r), s, 1e-3, rng);
    }

    private static void layerNorm(double[] y, int d) {
        for (int at = 0; at < y.length; at += d) {
            double mu = 0, var = 0;
            for (int c = 0; c < d; c++) mu += y[at + c] / d;
            for (int c = 0; c < d; c++) var += (y[at + c] - mu) * (y[at + c] - mu) / d;
            for (int c = 0; c < d; c++) y[at + c] = (y[at + c] - mu) / Math.sqrt(var + LossConfig.TARGET_EPS);
        }
    }

    /** Generated inputs of the model's shape: smooth images, or token progressions of the model's length. */
    static Batch batch(Data2VecConfig cfg, int n, Random r) {
        if (cfg.modality() instanceof ModalityConfig.Image img) {
            int s = img.size();
            float[] px = new float[n * s * s * img.channels()];
            for (int i = 0; i < n; i++) {
                double f = 0.2 + 0.5 * r.nextDouble(), ph = 6 * r.nextDouble();
                for (int y = 0; y < s; y++) for (int x = 0; x < s; x++) px[(i * s + y) * s + x] = (float) (Math.sin(f * x + ph) * Math.cos(f * y) + 0.1 * r.nextGaussian());
            }
            return new Batch.Images(n, s, s, img.channels(), px);
        }
        ModalityConfig.Text t = (ModalityConfig.Text) cfg.modality();
        int[] ids = new int[n * t.length()];
        for (int i = 0; i < n; i++) {
            int a = r.nextInt(100), step = 1 + r.nextInt(4);
            for (int p = 0; p < t.length(); p++) ids[i * t.length() + p] = 2 + Math.floorMod(a + step * p, 150);
        }
        return new Batch.Text(n, t.length(), ids);
    }

    /** {@code n} held-out examples in groups of 4 (the diagnostics read their batches only). */
    private static LabeledSet heldOut(Data2VecConfig cfg, int n) {
        Random r = new Random(21);
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i < n; i += 4) batches.add(batch(cfg, 4, r));
        return new LabeledSet() {
            @Override public int size() { return n; }

            @Override public int[] labels() { return new int[n]; }

            @Override public int classes() { return 2; }

            @Override public String describe() { return n + " generated inputs"; }

            @Override
            public List<Group> groups(int[] indices, int maxBatch) {
                List<Group> out = new ArrayList<>();
                for (int g = 0; g * 4 < indices.length; g++) {
                    int k = Math.min(4, indices.length - g * 4);
                    int[] idx = new int[k];
                    for (int i = 0; i < k; i++) idx[i] = g * 4 + i;
                    Batch full = batches.get(g);
                    out.add(new Group(idx, k == 4 ? full : slice(full, k)));
                }
                return out;
            }

            @Override public LabeledSet subset(int[] indices) { throw new UnsupportedOperationException(); }
        };
    }

    private static Batch slice(Batch full, int k) {
        if (full instanceof Batch.Images b) {
            int per = b.height() * b.width() * b.channels();
            float[] px = new float[k * per];
            System.arraycopy(b.pixels(), 0, px, 0, px.length);
            return new Batch.Images(k, b.height(), b.width(), b.channels(), px);
        }
        Batch.Text b = (Batch.Text) full;
        int[] ids = new int[k * b.length()];
        System.arraycopy(b.tokens(), 0, ids, 0, ids.length);
        return new Batch.Text(k, b.length(), ids);
    }
}
