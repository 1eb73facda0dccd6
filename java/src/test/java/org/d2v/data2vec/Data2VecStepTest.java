package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.data2vec.config.OptimConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;
import org.d2v.train.StepStats;
import org.junit.jupiter.api.Test;

/** One update: the EMA teacher, the collapse guards, weight decay groups, state and features. */
class Data2VecStepTest {
    private static final double LR = 1e-3;

    @Test
    void teacherIsTheEmaOfTheTrackedStudentParameters() {
        Data2VecConfig cfg = Presets.imageMicro();
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
            ParameterStore.Range r = m.parameters().trackedRange();
            double[] s0 = slice(m.parameters().values(), r), t0 = slice(m.teacherParameters().values(), r);
            assertArrayEquals(s0, t0, 0.0, "the teacher starts as the student");
            double[] decoder0 = m.parameters().get("decoder.proj.weight").toDoubles();
            StepStats st = m.trainStep(TinyData.batch(cfg, new Random(1)), 1, LR, new RandomStream(2));
            assertTrue(st.gradNorm() > 0 && Double.isFinite(st.loss()));
            double[] s1 = slice(m.parameters().values(), r), t1 = slice(m.teacherParameters().values(), r);
            double tau = cfg.ema().decay(1);
            int moved = 0;
            for (int i = 0; i < s1.length; i++) {
                assertEquals(tau * t0[i] + (1 - tau) * s1[i], t1[i], 1e-12, "teacher element " + i);
                if (s1[i] != s0[i]) moved++;
            }
            assertTrue(moved > s1.length / 2, "the student's tracked parameters moved");
            assertNotEquals(decoder0[0], m.parameters().get("decoder.proj.weight").toDoubles()[0], "untracked parameters train too");
        }
    }

    /**
     * The guards run on the step's statistics when they reach the host (the step itself reads
     * nothing back), so they cannot stop the update; they name the step, and the training loop
     * stops before any checkpoint covers it (StepChecksTest).
     */
    @Test
    void collapseGuardsNameTheStatisticAndTheStep() {
        Data2VecConfig base = Presets.imageMicro();
        LossConfig l = base.loss();
        Data2VecConfig targetGuard = base.withLoss(new LossConfig(l.topK(), true, true, l.scale(), l.clsWeight(), 100, 0, 0));
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), targetGuard)) {
            StepStats st = m.trainStep(TinyData.batch(base, new Random(1)), 1, LR, new RandomStream(2));
            var e = assertThrows(IllegalStateException.class, st::loss);
            assertTrue(e.getMessage().contains("target std") && e.getMessage().contains("step 1"), e.getMessage());
            assertEquals(e.getMessage(), st.problem());
        }
        Data2VecConfig predGuard = base.withLoss(new LossConfig(l.topK(), true, true, l.scale(), l.clsWeight(), 0, 100, 0));
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), predGuard)) {
            var e = assertThrows(IllegalStateException.class, () -> m.trainStep(TinyData.batch(base, new Random(1)), 1, LR, new RandomStream(2)).predStd());
            assertTrue(e.getMessage().contains("prediction std"), e.getMessage());
        }
        Data2VecConfig later = base.withLoss(new LossConfig(l.topK(), true, true, l.scale(), l.clsWeight(), 100, 100, 5000));
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), later)) {
            StepStats st = m.trainStep(TinyData.batch(base, new Random(1)), 1, LR, new RandomStream(2)); // guards inactive before step 5000
            assertEquals(null, st.problem());
            assertTrue(Double.isFinite(st.loss()) && st.targetStd() > 0 && st.predStd() > 0, st.toString());
        }
    }

    @Test
    void decayExemptionOnlyChangesNoDecayParametersByLrTimesWd() {
        Data2VecConfig base = Presets.imageMicro();
        OptimConfig o = base.optim();
        double[][] after = new double[2][];
        double[] before = null;
        for (int k = 0; k < 2; k++) {
            Data2VecConfig cfg = base.withOptim(new OptimConfig(o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.warmup(),
                    o.maxUpdate(), o.clipNorm(), k == 1));
            try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
                before = m.parameters().get("prenet_norm.weight").toDoubles();
                m.trainStep(TinyData.batch(cfg, new Random(1)), 1, LR, new RandomStream(2));
                after[k] = m.parameters().get("prenet_norm.weight").toDoubles();
                assertTrue(!m.parameters().parameter("prenet_norm.weight").decay(), "LayerNorm weights are in the no-decay group");
            }
        }
        for (int i = 0; i < before.length; i++) {
            assertEquals(-LR * o.weightDecay() * before[i], after[0][i] - after[1][i], 1e-12, "decay on all vs exempt, element " + i);
        }
    }

    @Test
    void stateNamesEveryTensorNeededToResume() {
        Data2VecConfig cfg = Presets.textMicro();
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), cfg)) {
            m.trainStep(TinyData.batch(cfg, new Random(1)), 1, LR, new RandomStream(2));
            Map<String, Tensor> state = m.state();
            int student = m.parameters().parameters().size(), teacher = m.teacherParameters().parameters().size();
            assertEquals(3 * student + teacher, state.size());
            assertTrue(state.containsKey("student.embed_tokens.weight"));
            assertTrue(state.containsKey("teacher.blocks.0.attn.qkv.weight"));
            assertTrue(!state.containsKey("teacher.embed_tokens.weight"), "text teacher has no embeddings");
            double[] mom = state.get("adam.v.blocks.1.mlp.fc1.weight").toDoubles();
            assertTrue(java.util.Arrays.stream(mom).anyMatch(v -> v > 0), "second moments filled after a step");
            assertEquals(state.get("student.decoder.proj.0.weight").shape(), state.get("adam.m.decoder.proj.0.weight").shape());
        }
    }

    @Test
    void pooledFeaturesAreDeterministicInEvalMode() {
        Data2VecConfig cfg = Presets.audioMicro();
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), cfg)) {
            Batch b = TinyData.batch(cfg, new Random(4));
            double[] a = m.pooledFeatures(b), c = m.pooledFeatures(b);
            assertEquals(b.size() * cfg.encoder().dim(), a.length);
            assertArrayEquals(a, c, 0.0);
            assertTrue(java.util.Arrays.stream(a).allMatch(Double::isFinite));
        }
    }

    @Test
    void wrongBatchesAreRejectedWithTheModelName() {
        Data2VecConfig cfg = Presets.imageMicro();
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), cfg)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> m.trainStep(new Batch.Text(1, 4, new int[4]), 1, LR, new RandomStream(1)));
            assertTrue(e.getMessage().contains("image-micro"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class,
                    () -> m.trainStep(TinyData.images(2, 32, 1, new Random(1)), 1, LR, new RandomStream(1)));
            assertTrue(e2.getMessage().contains("28×28×1"), e2.getMessage());
        }
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), Presets.textMicro())) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> m.trainStep(new Batch.Text(1, 4, new int[] {3, 4, 512, 5}), 1, LR, new RandomStream(1)));
            assertTrue(e.getMessage().contains("token id 512 at position 2"), e.getMessage());
        }
    }

    private static double[] slice(Tensor flat, ParameterStore.Range r) { return ParameterStore.slice(flat, r).toDoubles(); }
}
