package org.d2v.backend.kernel;

import org.d2v.backend.MatmulDesc;
import org.d2v.jni.OpenBlas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link OpenBlasGemmTest} with the GEMMs split over two host threads at every size (blocks of
 * rows or columns, or batch entries), against the float64 reference; the variant's self-check
 * (against the portable GEMM) runs split too. And the split's promise: each output element is the
 * same one-thread OpenBLAS sum, so two threads give the bits of one.
 */
@ExtendWith(HostThreads.class)
class OpenBlasGemmThreadedTest extends OpenBlasGemmTest {
    @Test
    void twoThreadsGiveTheBitsOfOne() {
        MatmulDesc[] cases = {
            MatmulDesc.of(37, 80, 24).withTransA(true),                                  // split by columns (n > m)
            MatmulDesc.of(177, 61, 129).withTransB(true),                                // rows
            MatmulDesc.of(176, 512, 128).withTransB(true).withActivation(MatmulDesc.Activation.GELU),
            MatmulDesc.of(19, 33, 40).withBatch(3, false),                               // batch entries
        };
        for (MatmulDesc d : cases) {
            int aRows = d.batch() * (d.transA() ? d.k() : d.m()), aCols = d.transA() ? d.m() : d.k();
            Pair a = randnInput(aRows, aCols);
            Pair b = randnInput(d.batch() * (d.transB() ? d.n() : d.k()), d.transB() ? d.k() : d.n());
            Pair bias = randnInput(d.n());
            boolean gelu = d.activation() == MatmulDesc.Activation.GELU;
            double[][] got = new double[2][];
            for (int t = 1; t <= 2; t++) {
                OpenBlas.configureHostThreads(t, t == 1 ? 1.0 : 0.0);
                Pair c = output(d.batch() * d.m(), d.n());
                Pair pre = gelu ? output(d.batch() * d.m(), d.n()) : null;
                dev.ops().matmul(d, a.k(), b.k(), bias.k(), c.k(), pre == null ? null : pre.k(), false);
                got[t - 1] = c.k().toDoubles();
            }
            assertBitsEqual("matmul " + d.m() + "x" + d.n() + "x" + d.k() + " batch " + d.batch() + ": 2 threads vs 1", got[1], got[0]);
        }
    }
}
