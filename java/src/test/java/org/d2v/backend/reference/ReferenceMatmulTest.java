package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.d2v.backend.MatmulDesc;
import org.d2v.backend.MatmulDesc.Activation;
import org.d2v.testing.Approx;
import org.d2v.testing.GradCheck;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Matmul forward against a naive triple loop, and its gradients (computed with matmul itself, as
 * the autograd layer does) against finite differences, for every layout option.
 */
class ReferenceMatmulTest extends ReferenceTestBase {
    private static final int M = 5, N = 3, K = 4;

    private static int aRows(MatmulDesc d) { return d.transA() ? d.k() : d.m(); }

    private static int aCols(MatmulDesc d) { return d.transA() ? d.m() : d.k(); }

    private static int bRows(MatmulDesc d) { return d.transB() ? d.n() : d.k(); }

    private static int bCols(MatmulDesc d) { return d.transB() ? d.k() : d.n(); }

    /** act(op(A)·op(B) + bias) written out, independent of the op. */
    private static double[] naive(MatmulDesc d, double[] a, double[] b, double[] bias) {
        double[] c = new double[d.batch() * d.m() * d.n()];
        for (int p = 0; p < d.batch(); p++) {
            int pb = d.broadcastB() ? 0 : p;
            for (int i = 0; i < d.m(); i++) {
                for (int j = 0; j < d.n(); j++) {
                    double s = bias == null ? 0 : bias[j];
                    for (int q = 0; q < d.k(); q++) {
                        double av = d.transA() ? a[p * d.m() * d.k() + q * d.m() + i] : a[p * d.m() * d.k() + i * d.k() + q];
                        double bv = d.transB() ? b[pb * d.k() * d.n() + j * d.k() + q] : b[pb * d.k() * d.n() + q * d.n() + j];
                        s += av * bv;
                    }
                    if (d.activation() == Activation.GELU) s = s * 0.5 * (1 + Erf.erf(s / Math.sqrt(2)));
                    c[(p * d.m() + i) * d.n() + j] = s;
                }
            }
        }
        return c;
    }

    @Test
    void forwardMatchesNaiveLoop() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                MatmulDesc d = new MatmulDesc(3, M, N, K, ta, tb, false, Activation.NONE);
                Tensor a = random(3, aRows(d), aCols(d)), b = random(3, bRows(d), bCols(d)), bias = random(N);
                Tensor c = poisoned(3, M, N);
                ops.matmul(d, a, b, bias, c, null, false);
                Approx.assertClose(naive(d, a.toDoubles(), b.toDoubles(), bias.toDoubles()), c.toDoubles(), 1e-15,
                        "matmul transA=" + ta + " transB=" + tb);
                MatmulDesc g = d.withActivation(Activation.GELU).withBatch(3, true);
                Tensor b1 = random(bRows(d), bCols(d)), pre = poisoned(3, M, N);
                ops.matmul(g, a, b1, null, c, pre, false);
                Approx.assertClose(naive(g, a.toDoubles(), b1.toDoubles(), null), c.toDoubles(), 1e-15, "GELU epilogue");
                Approx.assertClose(naive(g.withActivation(Activation.NONE), a.toDoubles(), b1.toDoubles(), null),
                        pre.toDoubles(), 1e-15, "preact");
            }
        }
    }

    /**
     * dA and dB of one batch for stored layouts, from dZ = ∂loss/∂(op(A)·op(B)): dop(A) = dZ·op(B)ᵀ
     * and dop(B) = op(A)ᵀ·dZ, transposed back where A or B are stored transposed.
     */
    private void backward(MatmulDesc d, Tensor a, Tensor b, Tensor dz, Tensor da, Tensor db) {
        int m = d.m(), n = d.n(), k = d.k();
        if (!d.transA()) ops.matmul(new MatmulDesc(1, m, k, n, false, !d.transB(), false, Activation.NONE), dz, b, null, da, null, true);
        else ops.matmul(new MatmulDesc(1, k, m, n, d.transB(), true, false, Activation.NONE), b, dz, null, da, null, true);
        if (!d.transB()) ops.matmul(new MatmulDesc(1, k, n, m, !d.transA(), false, false, Activation.NONE), a, dz, null, db, null, true);
        else ops.matmul(new MatmulDesc(1, n, k, m, true, d.transA(), false, Activation.NONE), dz, a, null, db, null, true);
    }

    @ParameterizedTest(name = "batch={0} transA={1} transB={2} broadcastB={3} bias={4} act={5}")
    @CsvSource({
        "1, false, false, false, false, NONE",
        "1, true,  false, false, false, NONE",
        "1, false, true,  false, false, NONE",
        "1, true,  true,  false, false, NONE",
        "3, false, true,  false, true,  NONE",
        "3, true,  false, true,  true,  NONE",
        "3, false, true,  true,  false, NONE",
        "1, false, true,  false, true,  GELU",
        "3, true,  true,  true,  true,  GELU",
    })
    void gradient(int batch, boolean ta, boolean tb, boolean broadcast, boolean withBias, Activation act) {
        MatmulDesc d = new MatmulDesc(batch, M, N, K, ta, tb, broadcast, act);
        int batchB = broadcast ? 1 : batch;
        Tensor a = random(batch, aRows(d), aCols(d)), b = random(batchB, bRows(d), bCols(d));
        Tensor bias = withBias ? random(N) : null;
        Tensor c = zeros(batch, M, N), pre = zeros(batch, M, N), dz = zeros(batch, M, N);
        Tensor da = zeros(batch, aRows(d), aCols(d)), db = zeros(batchB, bRows(d), bCols(d)), dbias = zeros(N);
        double[] w = weights(c);
        GradCheck check = GradCheck.of(grads -> {
            ops.matmul(d, a, b, bias, c, act == Activation.GELU ? pre : null, false);
            if (grads) {
                Tensor dc = of(w, batch, M, N);
                if (act == Activation.GELU) ops.geluBackward(pre, dc, dz, false);
                else ops.copy(dc, dz);
                long aSize = (long) M * K, bSize = (long) K * N, cSize = (long) M * N;
                for (int p = 0; p < batch; p++) {
                    int pb = broadcast ? 0 : p;
                    backward(d, a.view(p * aSize, Shape.of(aRows(d), aCols(d))), b.view(pb * bSize, Shape.of(bRows(d), bCols(d))),
                            dz.view(p * cSize, Shape.of(M, N)), da.view(p * aSize, Shape.of(aRows(d), aCols(d))),
                            db.view(pb * bSize, Shape.of(bRows(d), bCols(d))));
                }
                if (bias != null) ops.reduceMiddle(1, batch * M, N, 1, dz, dbias, true);
            }
            return GradCheck.dot(c, w);
        }).wrt("A", a, da).wrt("B", b, db);
        if (bias != null) check.wrt("bias", bias, dbias);
        check.check();
    }

    @Test
    void accumulateWithActivationIsRejected() {
        MatmulDesc d = MatmulDesc.of(2, 2, 2).withActivation(Activation.GELU);
        assertThrows(IllegalArgumentException.class, () -> ops.matmul(d, zeros(2, 2), zeros(2, 2), null, zeros(2, 2), null, true));
        assertThrows(IllegalArgumentException.class, () -> ops.matmul(MatmulDesc.of(2, 2, 3), zeros(2, 2), zeros(2, 2), null, zeros(2, 2), null, false));
    }
}
