package org.d2v.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.nn.Init;
import org.d2v.nn.Parameter;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** AdamW, the cosine schedule, clipping and the EMA teacher against their formulas, by hand. */
class OptimTest {
    private ReferenceDevice dev;

    @BeforeEach void open() { dev = new ReferenceDevice(DType.F64); }

    @AfterEach void close() { dev.close(); }

    @Test
    void adamwFollowsFairseqsFormPerGroup() {
        ParameterStore.Builder b = ParameterStore.builder();
        Parameter w = b.declare("w", Shape.of(2, 2), Init.zeros());     // decays
        Parameter bias = b.declare("bias", Shape.of(2), Init.zeros());  // does not
        try (ParameterStore s = b.build(dev, DType.F64); AdamW opt = new AdamW(s, new AdamW.Config(0.9, 0.98, 1e-6, 0.1))) {
            double[] p0 = {0.5, -1, 2, 0.25}, q0 = {1, -2};
            w.tensor().copyFrom(p0);
            bias.tensor().copyFrom(q0);
            double[][] gw = {{0.1, -0.2, 0.3, 0}, {-0.4, 0.1, 0.0, 0.2}};
            double[][] gb = {{1, -1}, {0.5, 2}};
            double[] lrs = {0.01, 0.02};
            double clip = 0.5;
            double[] pw = p0.clone(), pb = q0.clone(), mw = new double[4], vw = new double[4], mb = new double[2], vb = new double[2];
            for (int t = 1; t <= 2; t++) {
                s.zeroGrads();
                w.tensor().grad().copyFrom(gw[t - 1]);
                bias.tensor().grad().copyFrom(gb[t - 1]);
                opt.step(lrs[t - 1], Tensor.of(dev, DType.F64, Shape.of(1), new double[] {clip}));
                handStep(pw, gw[t - 1], mw, vw, lrs[t - 1], 0.1, t, clip);
                handStep(pb, gb[t - 1], mb, vb, lrs[t - 1], 0.0, t, clip);
                assertArrayEquals(pw, w.tensor().toDoubles(), 1e-14, "weights after step " + t);
                assertArrayEquals(pb, bias.tensor().toDoubles(), 1e-14, "bias (no decay) after step " + t);
            }
            assertEquals(2, opt.stepCount());
        }
    }

    /** The textbook update as AdamWDesc states it, written out independently. */
    private static void handStep(double[] p, double[] g, double[] m, double[] v, double lr, double wd, int t, double scale) {
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] * scale;
            m[i] = 0.9 * m[i] + 0.1 * gi;
            v[i] = 0.98 * v[i] + 0.02 * gi * gi;
            p[i] -= lr * wd * p[i];
            p[i] -= lr * Math.sqrt(1 - Math.pow(0.98, t)) / (1 - Math.pow(0.9, t)) * m[i] / (Math.sqrt(v[i]) + 1e-6);
        }
    }

    @Test
    void cosineScheduleWarmsUpThenFollowsHalfACosine() {
        CosineSchedule s = new CosineSchedule(1e-3, 100, 1100, 1e-5);
        assertEquals(0, s.lr(0));
        assertEquals(0.5e-3, s.lr(50), 1e-18);
        assertEquals(1e-3, s.lr(100), 1e-18);
        // a quarter of the way through the cosine: min + (peak − min)·(1 + cos(π/4))/2
        assertEquals(1e-5 + (1e-3 - 1e-5) * (1 + Math.sqrt(0.5)) / 2, s.lr(350), 1e-15);
        assertEquals((1e-3 + 1e-5) / 2, s.lr(600), 1e-15);
        assertEquals(1e-5, s.lr(1100), 1e-18);
        assertEquals(1e-5, s.lr(5000), 1e-18);
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1, 10, 10, 0));
    }

    @Test
    void clippingUsesTheGlobalNormOverEveryGradient() {
        ParameterStore.Builder b = ParameterStore.builder();
        Parameter a = b.declare("a", Shape.of(3), Init.zeros());
        Parameter c = b.child("x").declare("c", Shape.of(2, 1), Init.zeros());
        try (ParameterStore s = b.build(dev, DType.F64)) {
            a.tensor().grad().copyFrom(new double[] {1, 2, 2});
            c.tensor().grad().copyFrom(new double[] {4, -2});
            assertEquals(Math.sqrt(1 + 4 + 4 + 16 + 4), GradClip.globalNorm(s), 1e-14);
        }
    }

    @Test
    void clipFactorIsFairseqs() {
        assertEquals(1, GradClip.factor(3, 4));
        assertEquals(4 / (8 + 1e-6), GradClip.factor(8, 4), 1e-15);
        assertEquals(1, GradClip.factor(100, 0), "max norm 0 turns clipping off");
    }

    @Test
    void emaScheduleAnnealsLinearlyToTheEndDecay() {
        EmaSchedule s = new EmaSchedule(0.999, 0.99999, 75000);
        assertEquals(0.999, s.tau(0), 1e-15);
        assertEquals(0.99999 - (0.99999 - 0.999) * (1 - 30000.0 / 75000), s.tau(30000), 1e-15);
        assertEquals(0.99999, s.tau(75000), 1e-15);
        assertEquals(0.99999, s.tau(1_000_000), 1e-15);
    }

    @Test
    void emaTeacherUpdatesOnlyTheTrackedRangeInOneLaunch() {
        ParameterStore.Builder sb = ParameterStore.builder();
        Parameter sw = sb.tracked(true).declare("blk.w", Shape.of(2, 2), Init.normal(1));
        sb.declare("decoder.w", Shape.of(3, 2), Init.normal(1));
        ParameterStore.Builder tb = ParameterStore.builder();
        Parameter tw = tb.tracked(true).declare("blk.w", Shape.of(2, 2), Init.normal(1));
        try (ParameterStore student = sb.build(dev, DType.F64, 1); ParameterStore teacher = tb.build(dev, DType.F64, 2)) {
            EmaTeacher ema = new EmaTeacher(teacher, student, new EmaSchedule(0.5, 1.0, 4));
            ema.copyFromStudent();
            assertArrayEquals(sw.tensor().toDoubles(), tw.tensor().toDoubles());
            double[] s0 = {1, 2, 3, 4}, t0 = {-1, 0, 1, 2};
            sw.tensor().copyFrom(s0);
            tw.tensor().copyFrom(t0);
            double tau = ema.update(2); // τ = 1 − 0.5·(1 − 2/4) = 0.75
            assertEquals(0.75, tau, 1e-15);
            double[] expect = new double[4];
            for (int i = 0; i < 4; i++) expect[i] = 0.75 * t0[i] + 0.25 * s0[i];
            assertArrayEquals(expect, tw.tensor().toDoubles(), 1e-15);
            assertEquals(1.0, ema.update(4));
            assertArrayEquals(expect, tw.tensor().toDoubles(), 0, "τ = 1 freezes the teacher");
        }
    }
}
