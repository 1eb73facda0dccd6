package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.MatmulDesc;
import org.d2v.jni.OpenBlas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link OpenBlasGemmTest} with the GEMMs split over two host threads at every size (blocks of
 * rows or columns, or batch entries), against the float64 reference; the variant's self-check
 * (against the portable GEMM) runs split too. And the split's promise: it depends only on the shape
 * and the thread count, so two threads repeat their bits run after run. Two threads need not give
 * the bits of one: a part is its own OpenBLAS call, and OpenBLAS's Haswell kernels (what Zen CPUs
 * get) round the last register tile of a call differently from an inner one (SkylakeX's do not),
 * so there the split's edges move the last bits; they stay within float32 rounding of one thread.
 */
@ExtendWith(HostThreads.class)
class OpenBlasGemmThreadedTest extends OpenBlasGemmTest {
    @Test
    void twoThreadsRepeatTheirBitsAndRoundAsOneThreadDoes() {
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
            int[] threads = {1, 2, 2};
            double[][] got = new double[threads.length][];
            for (int run = 0; run < threads.length; run++) {
                int t = threads[run];
                OpenBlas.configureHostThreads(t, t == 1 ? 1.0 : 0.0);
                Pair c = output(d.batch() * d.m(), d.n());
                Pair pre = gelu ? output(d.batch() * d.m(), d.n()) : null;
                dev.ops().matmul(d, a.k(), b.k(), bias.k(), c.k(), pre == null ? null : pre.k(), false);
                got[run] = c.k().toDoubles();
            }
            String what = "matmul " + d.m() + "x" + d.n() + "x" + d.k() + " batch " + d.batch();
            assertBitsEqual(what + ": 2 threads, second run vs first", got[2], got[1]);
            double worst = 0;
            for (int i = 0; i < got[0].length; i++) worst = Math.max(worst, Math.abs(got[1][i] - got[0][i]) / Math.max(1, Math.abs(got[0][i])));
            // float32 sums of k products of N(0, 1) values: a few ulps of the sum's magnitude
            assertTrue(worst <= 1e-5, what + ": 2 threads vs 1 differ by " + worst);
        }
    }
}
