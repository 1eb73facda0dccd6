package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.d2v.autograd.Tape;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.ModalityConfig.TeacherInput;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * What the text teacher reads (docs/algorithm.md §5): the student's features (fairseq) or the
 * tokens without positions. With {@code tokens} the targets carry no order: they ignore the
 * position table and follow a permutation of the tokens; nothing of the teacher reaches the
 * student's backward; the parameters and a resumed run are the same as with {@code student}.
 * With {@code ema} the teacher has its own copy of the local encoder, tracked by the EMA.
 */
class TextTeacherInputTest {
    private static Data2VecConfig micro(TeacherInput t) {
        Data2VecConfig c = Presets.textMicro();
        return c.withModality(((ModalityConfig.Text) c.modality()).withTeacherInput(t));
    }

    @Test
    void presetsKeepFairseqsTeacherInput() {
        assertEquals(TeacherInput.STUDENT, ((ModalityConfig.Text) Presets.textMicro().modality()).teacherInput());
        assertEquals(TeacherInput.STUDENT, ((ModalityConfig.Text) Presets.named("text-base").modality()).teacherInput());
        for (TeacherInput t : TeacherInput.values()) assertEquals(t, TeacherInput.parse(t.word()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TeacherInput.parse("positions"));
        assertTrue(e.getMessage().contains("teacher-input") && e.getMessage().contains("'positions'"), e.getMessage());
    }

    @Test
    void onTokensTheTargetsIgnoreThePositionTable() {
        double[][] student = targetsBeforeAndAfterNewPositions(TeacherInput.STUDENT);
        double[][] tokens = targetsBeforeAndAfterNewPositions(TeacherInput.TOKENS);
        assertArrayEquals(tokens[0], tokens[1], 0.0, "tokens: the position table does not reach the targets");
        assertTrue(maxAbsDiff(student[0], student[1]) > 1e-3, "student: the targets follow the position table");
        assertTrue(maxAbsDiff(student[0], tokens[0]) > 1e-3, "the two inputs give different targets");
    }

    @Test
    void onTokensPermutingASamplesTokensPermutesItsTargets() {
        Data2VecConfig cfg = micro(TeacherInput.TOKENS);
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
            Batch.Text b = (Batch.Text) TinyData.batch(cfg, new Random(3));
            int n = b.size(), t = b.length(), d = cfg.encoder().dim();
            int[] perm = permutation(t, new Random(8));
            int[] shuffled = new int[b.tokens().length];
            for (int s = 0; s < n; s++) for (int p = 0; p < t; p++) shuffled[s * t + p] = b.tokens()[s * t + perm[p]];
            double[] y = targets(m, b), yShuffled = targets(m, new Batch.Text(n, t, shuffled));
            for (int s = 0; s < n; s++) {
                for (int p = 0; p < t; p++) {
                    for (int c = 0; c < d; c++) {
                        assertEquals(y[(s * t + perm[p]) * d + c], yShuffled[(s * t + p) * d + c], 1e-10, "sample " + s + " position " + p);
                    }
                }
            }
        }
    }

    /** The teacher's part of the forward is on a tape of its own, dropped: the student's tape is the same length either way. */
    @Test
    void theTeacherRecordsNothingOnTheStudentsTape() {
        assertEquals(tapeLength(TeacherInput.STUDENT), tapeLength(TeacherInput.TOKENS));
    }

    @Test
    void studentAndTokensShareTheirParameters() {
        try (Data2Vec a = new Data2Vec(new ReferenceDevice(DType.F64), micro(TeacherInput.STUDENT), DType.F64);
             Data2Vec b = new Data2Vec(new ReferenceDevice(DType.F64), micro(TeacherInput.TOKENS), DType.F64)) {
            assertEquals(a.state().keySet(), b.state().keySet(), "a checkpoint of one loads into the other");
            assertArrayEquals(a.parameters().values().toDoubles(), b.parameters().values().toDoubles(), 0.0, "same initialisation");
        }
    }

    /** The teacher's copy starts as the student's local encoder (eval-mode targets as with student), then follows it by the EMA. */
    @Test
    void onEmaTheTeacherTracksItsOwnLocalEncoder() {
        Data2VecConfig cfg = micro(TeacherInput.EMA);
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64);
             Data2Vec s = new Data2Vec(new ReferenceDevice(DType.F64), micro(TeacherInput.STUDENT), DType.F64)) {
            Batch b = TinyData.batch(cfg, new Random(3));
            assertArrayEquals(targets(s, b), targets(m, b), 1e-12, "at init the copy is the student's encoder (no dropout in eval mode)");
            assertTrue(m.state().containsKey("teacher.embed_positions.weight") && !s.state().containsKey("teacher.embed_positions.weight"));
            String[] local = {"embed_tokens.weight", "embed_positions.weight", "embed_norm.weight", "embed_norm.bias"};
            for (String name : local) assertTrue(m.parameters().parameter(name).tracked(), name + " is tracked");
            double[] t0 = m.teacherParameters().get("embed_positions.weight").toDoubles();
            m.trainStep(b, 1, 1e-3, new RandomStream(2));
            double[] s1 = m.parameters().get("embed_positions.weight").toDoubles(), t1 = m.teacherParameters().get("embed_positions.weight").toDoubles();
            double tau = cfg.ema().decay(1);
            for (int i = 0; i < t1.length; i++) assertEquals(tau * t0[i] + (1 - tau) * s1[i], t1[i], 1e-12, "teacher position element " + i);
            assertTrue(maxAbsDiff(t0, s1) > 0, "the student's table moved");
            double[] before = targets(m, b);
            Tensor table = m.parameters().get("embed_positions.weight");
            table.copyFrom(new double[(int) table.numel()]);
            assertArrayEquals(before, targets(m, b), 0.0, "the targets read the teacher's table, not the student's");
        }
    }

    /** Two updates straight, or one, the state copied into a fresh model of another seed, then the second: bit-identical. */
    @Test
    void aResumedRunIsBitIdenticalOnTokensAndOnEma() {
        resumesExactly(micro(TeacherInput.TOKENS));
        resumesExactly(micro(TeacherInput.EMA));
    }

    private static void resumesExactly(Data2VecConfig cfg) {
        try (Data2Vec straight = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64);
             Data2Vec first = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64);
             Data2Vec resumed = new Data2Vec(new ReferenceDevice(DType.F64), cfg.withSeed(77), DType.F64)) {
            for (long step = 1; step <= 2; step++) straight.trainStep(TinyData.batch(cfg, new Random(step)), step, 1e-3, new RandomStream(10 + step));
            first.trainStep(TinyData.batch(cfg, new Random(1)), 1, 1e-3, new RandomStream(11));
            for (Map.Entry<String, Tensor> e : first.state().entrySet()) resumed.state().get(e.getKey()).copyFrom(e.getValue().toDoubles());
            resumed.trainStep(TinyData.batch(cfg, new Random(2)), 2, 1e-3, new RandomStream(12));
            for (Map.Entry<String, Tensor> e : straight.state().entrySet()) {
                assertArrayEquals(e.getValue().toDoubles(), resumed.state().get(e.getKey()).toDoubles(), 0.0, e.getKey());
            }
            ParameterStore.Range r = straight.parameters().trackedRange();
            assertTrue(maxAbsDiff(slice(first.parameters().values(), r), slice(straight.parameters().values(), r)) > 0, "the second update moved the student");
        }
    }

    private static double[][] targetsBeforeAndAfterNewPositions(TeacherInput input) {
        Data2VecConfig cfg = micro(input);
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
            Batch b = TinyData.batch(cfg, new Random(3));
            double[] before = targets(m, b);
            Tensor table = m.parameters().get("embed_positions.weight");
            double[] v = new double[(int) table.numel()];
            Random r = new Random(4);
            for (int i = 0; i < v.length; i++) v[i] = 0.5 * r.nextGaussian();
            table.copyFrom(v);
            return new double[][] {before, targets(m, b)};
        }
    }

    private static double[] targets(Data2Vec m, Batch b) {
        int t = m.tokens(b);
        MaskBatch masks = m.masker().sample(b.size() * m.config().clones(), t, new RandomStream(5));
        return m.reconstruct(b, masks, new RandomStream(6)).target();
    }

    private static int tapeLength(TeacherInput input) {
        Data2VecConfig cfg = micro(input);
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64)) {
            Batch b = TinyData.batch(cfg, new Random(3));
            MaskBatch masks = m.masker().sample(b.size() * cfg.clones(), m.tokens(b), new RandomStream(5));
            try (Scope s = Scope.open(); Tape tape = Tape.record()) {
                m.forwardTraining(b, masks, new RandomStream(9));
                return tape.size();
            }
        }
    }

    private static int[] permutation(int n, Random r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), x = p[i];
            p[i] = p[j];
            p[j] = x;
        }
        return p;
    }

    private static double[] slice(Tensor flat, ParameterStore.Range r) {
        return ParameterStore.slice(flat, r).toDoubles();
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
