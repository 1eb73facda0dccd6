package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.d2v.backend.MatmulDesc;
import org.d2v.backend.Ops;
import org.junit.jupiter.api.Test;

/**
 * Every kernel op, forward and backward, against the float64 reference on fresh random inputs of
 * awkward sizes (not multiples of the tiles), outputs poisoned with NaN. Subclasses pick the
 * backend: OpenClKernelTest, CudaKernelTest.
 */
public abstract class KernelOpsSuite extends KernelTestBase {

    private Ops k() { return dev.ops(); }

    private Ops r() { return ref.ops(); }

    // ---- memory and elementwise ----------------------------------------------------------------

    @Test
    void fillAndCopy() {
        for (int n : new int[] {1, 7, 999}) {
            Pair x = output(n);
            k().fill(x.k(), 0.25);
            r().fill(x.r(), 0.25);
            assertClose("fill", x);
            Pair src = randnInput(n), dst = output(n);
            k().copy(src.k(), dst.k());
            r().copy(src.r(), dst.r());
            assertClose("copy", dst);
        }
    }

    @Test
    void axpbyAndAdd() {
        int n = 1001;
        Pair x = randnInput(n), y = randnInput(n);
        k().axpby(0.5, x.k(), -2.0, y.k());
        r().axpby(0.5, x.r(), -2.0, y.r());
        assertClose("axpby", y);
        Pair z = output(n); // beta = 0 must ignore the NaN poison
        k().axpby(3.0, x.k(), 0.0, z.k());
        r().axpby(3.0, x.r(), 0.0, z.r());
        assertClose("axpby", z);
        Pair a = randnInput(7, 157), b = randnInput(7, 157), out = output(7, 157);
        k().add(a.k(), b.k(), out.k());
        r().add(a.r(), b.r(), out.r());
        assertClose("add", out);
    }

    // ---- GEMM ----------------------------------------------------------------------------------

    private void checkMatmul(MatmulDesc d, boolean bias, boolean accumulate, boolean preact) {
        int aRows = d.batch() * (d.transA() ? d.k() : d.m()), aCols = d.transA() ? d.m() : d.k();
        int bBatch = d.broadcastB() ? 1 : d.batch();
        Pair a = randnInput(aRows, aCols);
        Pair b = randnInput(bBatch * (d.transB() ? d.n() : d.k()), d.transB() ? d.k() : d.n());
        Pair bi = bias ? randnInput(d.n()) : null;
        Pair c = accumulate ? randnInput(d.batch() * d.m(), d.n()) : output(d.batch() * d.m(), d.n());
        Pair pre = preact ? output(d.batch() * d.m(), d.n()) : null;
        k().matmul(d, a.k(), b.k(), bi == null ? null : bi.k(), c.k(), pre == null ? null : pre.k(), accumulate);
        r().matmul(d, a.r(), b.r(), bi == null ? null : bi.r(), c.r(), pre == null ? null : pre.r(), accumulate);
        assertClose("matmul", c);
        if (pre != null) assertClose("matmul preact", pre);
    }

    @Test
    void matmulShapesAndTransposes() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                checkMatmul(MatmulDesc.of(1, 1, 1).withTransA(ta).withTransB(tb), false, false, false);
                checkMatmul(MatmulDesc.of(157, 96, 65).withTransA(ta).withTransB(tb), false, false, false);
                checkMatmul(MatmulDesc.of(7, 130, 33).withTransA(ta).withTransB(tb).withBatch(3, false), true, false, false);
            }
        }
    }

    @Test
    void matmulBatchedBroadcastBiasGeluAccumulate() {
        checkMatmul(MatmulDesc.of(99, 70, 64).withTransB(true).withBatch(3, true), true, false, false);
        checkMatmul(MatmulDesc.of(65, 127, 31).withBatch(2, false), false, true, false);
        MatmulDesc gelu = MatmulDesc.of(157, 96, 48).withTransB(true).withActivation(MatmulDesc.Activation.GELU);
        checkMatmul(gelu, true, false, true);
        checkMatmul(gelu, false, false, false);
        checkMatmul(MatmulDesc.of(300, 768, 96).withTransB(true), true, false, false); // one large case
        Pair a = randnInput(4, 4), b = randnInput(4, 4), c = randnInput(4, 4);
        assertThrows(IllegalArgumentException.class, () -> k().matmul(gelu.withActivation(MatmulDesc.Activation.GELU),
                a.k(), b.k(), null, c.k(), null, true));
    }
}
