package org.d2v.backend.cuda;

import org.d2v.backend.MatmulDesc;
import org.d2v.backend.cuda.TensorCoreEmulator.Buf;
import org.d2v.backend.cuda.TensorCoreEmulator.Job;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * kernels/gemm_tc.cu in the emulator against the reference matmul: every layout, edge tiles in M,
 * N and K, batches with and without a broadcast B, the bias / GELU (with pre-activation) /
 * accumulate epilogues, fp32 and bf16 outputs, and the precondition check.
 */
class GemmTcEmulationTest extends EmulationTestBase {

    private record Case(String layout, int batch, int m, int n, int k, boolean broadcast, boolean bias, boolean gelu,
                        boolean accumulate, boolean bf16Out) {}

    private void check(Case c) {
        boolean ta = c.layout.charAt(0) == 't', tb = c.layout.charAt(1) == 't';
        int nb = c.broadcast ? 1 : c.batch;
        double[] a = randBf16(c.batch * c.m * c.k), b = randBf16(nb * c.k * c.n), bias = randF32(c.n);
        double[] c0 = c.accumulate ? (c.bf16Out ? randBf16(c.batch * c.m * c.n) : randF32(c.batch * c.m * c.n)) : null;

        MatmulDesc d = new MatmulDesc(c.batch, c.m, c.n, c.k, ta, tb, c.broadcast,
                c.gelu ? MatmulDesc.Activation.GELU : MatmulDesc.Activation.NONE);
        Tensor rc = c0 != null ? refTensor(c0, c.batch, c.m, c.n) : refZeros(c.batch, c.m, c.n);
        Tensor rp = c.gelu ? refZeros(c.batch, c.m, c.n) : null;
        refOps.matmul(d, refTensor(a, c.batch, ta ? c.k : c.m, ta ? c.m : c.k), refTensor(b, nb, tb ? c.n : c.k, tb ? c.k : c.n),
                c.bias ? refTensor(bias, c.n) : null, rc, rp, c.accumulate);

        Job job = new Job();
        Buf A = job.bf16(a), B = job.bf16(b), bi = job.f32(bias);
        int size = c.batch * c.m * c.n;
        Buf out = c0 != null ? (c.bf16Out ? job.bf16(c0) : job.f32(c0)) : (c.bf16Out ? job.bf16NaN(size) : job.f32NaN(size));
        Buf pre = c.gelu ? (c.bf16Out ? job.bf16NaN(size) : job.f32NaN(size)) : null;
        job.launch("gemm_tc_" + c.layout, grid(ceil(c.n, 128), ceil(c.m, 128), c.batch), grid(256),
                c.m, c.n, c.k, c.m * c.k, c.broadcast ? 0 : c.k * c.n, c.m * c.n, A, B, c.bias ? bi : null,
                c.bf16Out ? null : out, c.bf16Out ? out : null, c.bf16Out ? null : pre, c.bf16Out ? pre : null,
                c.bias ? 1 : 0, c.gelu ? 1 : 0, c.accumulate ? 1 : 0, c.bf16Out ? 1 : 0);
        job.run();
        double tol = c.bf16Out ? BF16_TOL : F32_TOL;
        assertClose("gemm (" + c + ")", c.bf16Out ? out.bf16s() : out.floats(), rc.toDoubles(), tol);
        if (c.gelu) assertClose("gemm preact (" + c + ")", c.bf16Out ? pre.bf16s() : pre.floats(), rp.toDoubles(), tol);
    }

    @Test
    void everyLayoutWithEdgeTiles() {
        check(new Case("nn", 1, 130, 136, 40, false, true, false, false, false));
        check(new Case("nt", 1, 67, 200, 72, false, true, false, false, false));
        check(new Case("tn", 1, 136, 72, 45, false, false, false, false, false)); // tn: K is free
    }

    @Test
    void batchedWithAndWithoutBroadcastB() {
        check(new Case("nt", 3, 33, 17, 8, true, true, false, false, false));
        check(new Case("nn", 2, 40, 24, 56, false, false, false, false, false));
        check(new Case("tn", 2, 24, 16, 19, true, true, false, false, false));
    }

    @Test
    void geluWritesThePreActivation() {
        check(new Case("nn", 2, 128, 128, 96, false, true, true, false, false));
        check(new Case("tn", 1, 16, 264, 100, false, true, true, false, true));
    }

    @Test
    void accumulateAndBf16Output() {
        check(new Case("nt", 1, 150, 130, 64, false, true, false, true, true));
        check(new Case("nn", 1, 31, 40, 32, false, false, false, true, false));
        check(new Case("nt", 1, 129, 9, 24, false, true, false, false, true)); // odd N: the scalar store path
    }

    /**
     * Split-K for a weight gradient (dW += dYᵀ·X, `tn`) without another kernel: a batch over K-chunks
     * into a workspace, then conv_tc_reduce_splits adds the chunks into dW in order (docs/cuda.md).
     */
    @Test
    void splitKAsABatchOfChunksThenAFixedOrderReduce() {
        int m = 72, n = 40, k = 96, splits = 3, kc = k / splits;
        double[] a = randBf16(k * m), b = randBf16(k * n), dw0 = randF32(m * n);
        Tensor rc = refTensor(dw0, 1, m, n);
        refOps.matmul(new MatmulDesc(1, m, n, k, true, false, false, MatmulDesc.Activation.NONE),
                refTensor(a, 1, k, m), refTensor(b, 1, k, n), null, rc, null, true);
        Job job = new Job();
        Buf A = job.bf16(a), B = job.bf16(b), Ws = job.f32NaN(splits * m * n), Dw = job.f32(dw0);
        job.launch("gemm_tc_tn", grid(ceil(n, 128), ceil(m, 128), splits), grid(256), m, n, kc, kc * m, kc * n, m * n,
                A, B, null, Ws, null, null, null, 0, 0, 0, 0);
        job.launch("conv_tc_reduce_splits", grid(2), grid(256), m * n, splits, Ws, Dw);
        job.run();
        assertClose("gemm split-K (tn, 3 chunks)", Dw.floats(), rc.toDoubles(), F32_TOL);
    }

    /** K not a multiple of 8 for a layout whose rows run along K: the kernel poisons C instead of misreading. */
    @Test
    void aViolatedPreconditionWritesNaN() {
        int m = 20, n = 24, k = 12;
        Job job = new Job();
        Buf A = job.bf16(randBf16(m * k)), B = job.bf16(randBf16(n * k)), C = job.f32(randF32(m * n));
        job.launch("gemm_tc_nt", grid(1, 1, 1), grid(256), m, n, k, m * k, n * k, m * n, A, B, null, C, null, null, null,
                0, 0, 0, 0);
        job.run();
        assertAllNaN("gemm_tc_nt with K % 8 != 0", C.floats());
    }
}
