package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Philox;
import org.d2v.testing.Approx;
import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fused attention against an explicit softmax written here, and its backward (qkv and the ALiBi
 * scale) against finite differences, with every option alone and all together.
 */
class ReferenceAttentionTest extends ReferenceTestBase {
    private static final int B = 3, T = 5, H = 3, DH = 2;

    /** The inputs of one attention problem. */
    private final class Case {
        final AttentionDesc d;
        final Tensor qkv = random(B, T, 3, H, DH);
        final Tensor slopes = of(new double[] {0.5, 0.25, 0.125}, H);
        final Tensor scale = of(new double[] {0.7, -0.4, 1.3}, H); // head 1 has ALiBi switched off
        final Tensor positions = ints(new int[] {0, 1, 2, 3, 4, 0, 2, 3, 7, 9, 1, 4, 5, 6, 8}, B, T);
        final Tensor padding = ints(new int[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0}, B, T);

        Case(boolean alibi, boolean pad, double dropout) {
            d = AttentionDesc.of(B, T, H, DH).withAlibi(alibi).withKeyPadding(pad).withDropout(dropout, 1234567, 42);
        }

        void forward(Tensor out, Tensor lse) {
            ops.attention(d, qkv, slopes, scale, positions, padding, out, lse);
        }
    }

    /** softmax(scale·q·k + bias) · v with dropout, computed directly from the definitions in AttentionDesc. */
    private static double[][] explicit(AttentionDesc d, double[] qkv, double[] slopes, double[] scale, int[] pos, int[] pad) {
        double[] out = new double[B * T * H * DH], lse = new double[B * H * T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < T; i++) {
                    double[] logit = new double[T];
                    for (int j = 0; j < T; j++) {
                        double dot = 0;
                        for (int c = 0; c < DH; c++) {
                            dot += qkv[(((b * T + i) * 3) * H + h) * DH + c] * qkv[(((b * T + j) * 3 + 1) * H + h) * DH + c];
                        }
                        logit[j] = d.scale() * dot;
                        if (d.alibi()) logit[j] += -slopes[h] * Math.max(scale[h], 0) * Math.abs(pos[b * T + i] - pos[b * T + j]);
                        if (d.keyPadding() && pad[b * T + j] == 1) logit[j] = Double.NEGATIVE_INFINITY;
                    }
                    double z = 0;
                    for (int j = 0; j < T; j++) z += Math.exp(logit[j]);
                    lse[(b * H + h) * T + i] = Math.log(z);
                    for (int j = 0; j < T; j++) {
                        double p = Math.exp(logit[j]) / z;
                        long e = (((long) b * H + h) * T + i) * T + j;
                        if (d.dropout() > 0) p = Philox.keep(d.seed(), d.offset(), e, d.dropout()) ? p / (1 - d.dropout()) : 0;
                        for (int c = 0; c < DH; c++) {
                            out[((b * T + i) * H + h) * DH + c] += p * qkv[(((b * T + j) * 3 + 2) * H + h) * DH + c];
                        }
                    }
                }
            }
        }
        return new double[][] {out, lse};
    }

    @ParameterizedTest(name = "alibi={0} padding={1} dropout={2}")
    @CsvSource({"false, false, 0", "true, false, 0", "false, true, 0", "false, false, 0.3", "true, true, 0.3"})
    void forwardMatchesExplicitSoftmax(boolean alibi, boolean pad, double dropout) {
        Case c = new Case(alibi, pad, dropout);
        Tensor out = poisoned(B, T, H, DH), lse = poisoned(B, H, T);
        c.forward(out, lse);
        double[][] expected = explicit(c.d, c.qkv.toDoubles(), c.slopes.toDoubles(), c.scale.toDoubles(),
                c.positions.toInts(), c.padding.toInts());
        Approx.assertClose(expected[0], out.toDoubles(), 1e-13, "attention out");
        Approx.assertClose(expected[1], lse.toDoubles(), 1e-13, "attention lse");
    }

    @ParameterizedTest(name = "alibi={0} padding={1} dropout={2}")
    @CsvSource({"false, false, 0", "true, false, 0", "false, true, 0", "false, false, 0.3", "true, true, 0.3"})
    void gradient(boolean alibi, boolean pad, double dropout) {
        Case c = new Case(alibi, pad, dropout);
        Tensor out = zeros(B, T, H, DH), lse = zeros(B, H, T), delta = zeros(B, H, T);
        Tensor dqkv = zeros(B, T, 3, H, DH), dScale = zeros(H);
        double[] w = weights(out);
        GradCheck check = GradCheck.of(grads -> {
            c.forward(out, lse);
            if (grads) {
                ops.attentionBackward(c.d, c.qkv, c.slopes, c.scale, c.positions, c.padding, out, of(w, B, T, H, DH),
                        lse, delta, dqkv, dScale, false);
            }
            return GradCheck.dot(out, w);
        }).wrt("qkv", c.qkv, dqkv);
        if (alibi) check.wrt("alibiScale", c.scale, dScale);
        check.check();
        if (alibi) assertEquals(0.0, dScale.toDoubles()[1], "no gradient where the ALiBi scale is negative");
        if (pad) {
            // padded keys (sample 1, tokens 3 and 4) receive no key or value gradient
            double[] g = dqkv.toDoubles();
            for (int which = 1; which <= 2; which++) {
                for (int k = 0; k < H * DH; k++) assertEquals(0.0, g[((1 * T + 3) * 3 + which) * H * DH + k]);
            }
        }
        assertTrue(dqkv.toDoubles()[0] != 0, "query gradient present");
    }

    @Test
    void sampleWithEveryKeyPaddedGivesZerosNotNaN() {
        AttentionDesc d = AttentionDesc.of(2, 3, 1, 2).withKeyPadding(true);
        Tensor qkv = random(2, 3, 3, 1, 2), padding = ints(new int[] {0, 1, 0, 1, 1, 1}, 2, 3);
        Tensor out = poisoned(2, 3, 1, 2), lse = poisoned(2, 1, 3);
        ops.attention(d, qkv, null, null, null, padding, out, lse);
        double[] o = out.toDoubles();
        for (int k = 6; k < 12; k++) assertEquals(0.0, o[k], "sample 1 attends to nothing");
        Tensor dqkv = poisoned(2, 3, 3, 1, 2);
        ops.attentionBackward(d, qkv, null, null, null, padding, out, random(2, 3, 1, 2), lse, zeros(2, 1, 3), dqkv, null, false);
        double[] g = dqkv.toDoubles();
        for (int k = 0; k < g.length; k++) assertTrue(!Double.isNaN(g[k]), "gradient element " + k);
        for (int k = 18; k < 36; k++) assertEquals(0.0, g[k], "no gradient flows through sample 1");
    }
}
