package org.d2v.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.testing.GradCheck;
import org.d2v.testing.Rand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Finite-difference checks (float64, reference backend) of every differentiable function in F. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FGradientTest {
    private ReferenceDevice dev;
    private Rand rand;
    private Scope scope;
    private TapeCheck c;

    @BeforeAll void open() { dev = new ReferenceDevice(DType.F64); }

    @AfterAll void close() { dev.close(); }

    @BeforeEach
    void begin() {
        rand = new Rand(97);
        scope = Scope.open();
        c = new TapeCheck(dev, rand);
    }

    @AfterEach void end() { scope.close(); }

    private Tensor ints(int[] v, int... dims) { return Tensor.ofInts(dev, Shape.of(dims), v); }

    private static void checked(double err) { assertTrue(err <= GradCheck.TOLERANCE); }

    @Test
    void linearWithAndWithoutBias() {
        Tensor x = c.leaf("x", 2, 3, 5), w = c.leaf("w", 4, 5), b = c.leaf("b", 4), w2 = c.leaf("w2", 3, 4);
        checked(c.check(() -> new Tensor[] {F.linear(F.linear(x, w, b), w2, null)}));
    }

    @Test
    void linearGeluEpilogue() {
        Tensor x = c.leaf("x", 7, 5), w = c.leaf("w", 6, 5), b = c.leaf("b", 6);
        checked(c.check(() -> new Tensor[] {F.linearGelu(x, w, b)}));
    }

    @Test
    void batchedMatmulAllLayouts() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (boolean bcast : new boolean[] {false, true}) {
                    try (Scope s = Scope.open()) {
                        TapeCheck k = new TapeCheck(dev, rand);
                        int batch = 3, m = 4, n = 2, kk = 5;
                        Tensor a = k.leaf("a", batch, ta ? kk : m, ta ? m : kk);
                        Tensor b = k.leaf("b", bcast ? 1 : batch, tb ? n : kk, tb ? kk : n);
                        MatmulDesc d = MatmulDesc.of(m, n, kk).withTransA(ta).withTransB(tb).withBatch(batch, bcast);
                        checked(k.check(() -> new Tensor[] {F.matmul(d, a, b)}));
                    }
                }
            }
        }
    }

    @Test
    void elementwise() {
        Tensor a = c.leaf("a", 3, 4), b = c.leaf("b", 3, 4), v = c.leaf("v", 4);
        checked(c.check(() -> new Tensor[] {
            F.mul(F.add(a, b), a), F.scale(F.gelu(b), -1.7), F.addBroadcast(a, v)}));
    }

    @Test
    void reductions() {
        Tensor x = c.leaf("x", 2, 3, 4);
        checked(c.check(() -> new Tensor[] {F.meanOverTime(x), F.reduceMiddle(x, 1, 6, 4, 0.5), F.sum(x)}));
        double[] mean = F.meanOverTime(x).toDoubles(), xs = x.toDoubles();
        assertEquals((xs[1] + xs[5] + xs[9]) / 3, mean[1], 1e-15);
    }

    @Test
    void dropoutUsesTheStreamAndMatchesItsBackward() {
        Tensor x = c.leaf("x", 5, 8);
        checked(c.check(() -> new Tensor[] {F.dropout(x, 0.3, new RandomStream(11))}));
        RandomStream rng = new RandomStream(11);
        Tensor y = F.dropout(x, 0.3, rng);
        assertEquals(10, rng.position(), "40 elements take 10 Philox blocks");
        int zeros = 0;
        for (double v : y.toDoubles()) if (v == 0) zeros++;
        assertTrue(zeros > 0 && zeros < 40, "some but not all dropped: " + zeros);
        assertTrue(F.dropout(x, 0, rng) == x, "p = 0 is the identity");
    }

    @Test
    void layerNormAffineAndNot() {
        Tensor x = c.leaf("x", 3, 2, 6), g = c.leaf("gamma", 6), b = c.leaf("beta", 6);
        checked(c.check(() -> new Tensor[] {F.layerNorm(x, g, b, 1e-5), F.layerNorm(F.scale(x, 2), null, null, 1e-6)}));
    }

    @Test
    void instanceNorm() {
        Tensor x = c.leaf("x", 2, 5, 3);
        checked(c.check(() -> new Tensor[] {F.instanceNorm(x, 1e-5)}));
    }

    @Test
    void attentionPlain() {
        Tensor qkv = c.leaf("qkv", 2, 4, 3 * 6);
        AttentionDesc d = AttentionDesc.of(2, 4, 2, 3);
        checked(c.check(() -> new Tensor[] {F.attention(d, qkv, null, null, null, null, null)}));
    }

    @Test
    void attentionWithAlibiPaddingAndDropout() {
        int batch = 2, tokens = 5, heads = 2, hd = 3;
        Tensor qkv = c.leaf("qkv", batch, tokens, 3 * heads * hd);
        Tensor scale = c.wrt("alibiScale", Tensor.of(dev, DType.F64, Shape.of(heads), new double[] {0.7, 1.3}));
        Tensor slopes = Tensor.of(dev, DType.F64, Shape.of(heads), new double[] {0.5, 0.25});
        Tensor pos = ints(new int[] {0, 1, 3, 4, 7, 0, 2, 3, 5, 6}, batch, tokens);
        Tensor pad = ints(new int[] {0, 0, 0, 0, 1, 0, 0, 0, 1, 1}, batch, tokens);
        AttentionDesc d = AttentionDesc.of(batch, tokens, heads, hd).withAlibi(true).withKeyPadding(true).withDropout(0.2, 0, 0);
        checked(c.check(() -> new Tensor[] {F.attention(d, qkv, slopes, scale, pos, pad, new RandomStream(5))}));
    }

    @Test
    void conv1d() {
        ConvDesc d = ConvDesc.conv1d(2, 4, 6, 7, 3, 2, 1, 2);
        Tensor x = c.leaf("x", 2, 7, 4), w = c.leaf("w", 6, 3, 2), b = c.leaf("b", 6);
        checked(c.check(() -> new Tensor[] {F.conv(d, x, w, b)}));
        assertEquals(Shape.of(2, d.outW(), 6), F.conv(d, x, w, b).shape());
    }

    @Test
    void groupedStridedConv2d() {
        ConvDesc d = ConvDesc.conv2d(2, 4, 6, 5, 4, 3, 2, 1, 2);
        Tensor x = c.leaf("x", 2, 5, 4, 4), w = c.leaf("w", 6, 3, 3, 2), b = c.leaf("b", 6);
        checked(c.check(() -> new Tensor[] {F.conv(d, x, w, null), F.conv(d, x, w, b)}));
    }

    @Test
    void embedding() {
        Tensor table = c.leaf("table", 5, 3);
        Tensor ids = ints(new int[] {4, 0, 4, 2, 1, 4}, 2, 3);
        checked(c.check(() -> new Tensor[] {F.embedding(ids, table)}));
        assertEquals(Shape.of(2, 3, 3), F.embedding(ids, table).shape());
    }

    @Test
    void gatherScatterRepeat() {
        Tensor x = c.leaf("x", 2, 5, 3), noise = c.leaf("noise", 2, 5, 3);
        Tensor idx = ints(new int[] {4, 0, 2, 1, 3, 0}, 2, 3);
        checked(c.check(() -> {
            Tensor kept = F.gatherRows(x, idx);
            Tensor back = F.scatterRows(F.scale(kept, 3), idx, noise);
            return new Tensor[] {back, F.repeatRows(kept, 3)};
        }));
    }

    @Test
    void prependAndDropTokens() {
        Tensor x = c.leaf("x", 2, 3, 4), cls = c.leaf("cls", 4);
        checked(c.check(() -> {
            Tensor withCls = F.prependToken(x, cls);
            return new Tensor[] {F.gelu(withCls), F.dropLeadingTokens(F.scale(withCls, 2), 1)};
        }));
        Tensor y = F.prependToken(x, cls);
        double[] yv = y.toDoubles(), xv = x.toDoubles(), cv = cls.toDoubles();
        assertEquals(Shape.of(2, 4, 4), y.shape());
        for (int j = 0; j < 4; j++) {
            assertEquals(cv[j], yv[16 + j], "second sample starts with the token");
            assertEquals(xv[12 + 8 + j], yv[16 + 12 + j], "and ends with its own last token");
        }
        assertArrayEquals(xv, F.dropLeadingTokens(y, 1).toDoubles());
    }

    @Test
    void scatterKeepsBaseRowsThatAreNotNamed() {
        Tensor base = Tensor.of(dev, DType.F64, Shape.of(1, 3, 1), new double[] {10, 20, 30});
        Tensor src = Tensor.of(dev, DType.F64, Shape.of(1, 1, 1), new double[] {-1});
        Tensor out = F.scatterRows(src, ints(new int[] {1}, 1, 1), base);
        assertArrayEquals(new double[] {10, -1, 30}, out.toDoubles());
        assertArrayEquals(new double[] {10, 20, 30}, base.toDoubles(), "base untouched");
    }

    @Test
    void maskedRegressionWithClonesScaledByUpstream() {
        int rows = 4, tokens = 3, dim = 2, clones = 2;
        Tensor pred = c.leaf("pred", rows, tokens, dim);
        Tensor target = Tensor.of(dev, DType.F64, Shape.of(rows / clones, tokens, dim), rand.uniform(rows / clones * tokens * dim, -1, 1));
        Tensor mask = ints(new int[] {1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1}, rows, tokens);
        LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.5, 7);
        // Two losses, each scaled after the fact: checks the upstream gradient is honoured.
        checked(c.check(() -> new Tensor[] {F.scale(F.maskedRegression(d, pred, target, mask), 3), F.maskedRegression(d, F.gelu(pred), target, mask)}));
    }

    @Test
    void crossEntropy() {
        Tensor logits = c.leaf("logits", 4, 5);
        Tensor labels = ints(new int[] {0, 4, 2, 2}, 4);
        checked(c.check(() -> new Tensor[] {F.crossEntropy(logits, labels), F.scale(F.crossEntropy(F.gelu(logits), labels), -2)}));
    }

    @Test
    void nothingIsRecordedWithoutATapeOrGradients() {
        Tensor x = Tensor.of(dev, DType.F64, Shape.of(2, 3), rand.uniform(6, -1, 1));
        Tensor w = Tensor.of(dev, DType.F64, Shape.of(4, 3), rand.uniform(12, -1, 1));
        try (Tape tape = Tape.record()) {
            F.gelu(F.linear(x, w, null));
            assertEquals(0, tape.size(), "no input requires grad");
            w.setRequiresGrad(true);
            Tensor y = F.gelu(F.linear(x, w, null));
            assertEquals(2, tape.size());
            assertTrue(y.requiresGrad());
        }
    }
}
