package org.d2v.jni;

import org.d2v.backend.MatmulDesc;

/**
 * A {@link CublasLt.Gemm} in cuBLASLt's column-major terms: the integers native/gpu/cublaslt.c
 * builds its descriptors from (its {@code P_} indices, in this order), which are also the key of
 * its per-shape algorithm cache.
 *
 * <p>A row-major [r, c] matrix is a column-major [c, r] one with the same leading dimension c. So
 * d2v's C = op(A)·op(B) (C is m×n) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLASLt's "A" is d2v's B
 * and its "B" is d2v's A, its M is n and its N is m, and transposition flags carry over unchanged.
 * Alignments are those of the actual pointers and batch strides: cuBLASLt picks algorithms by the
 * alignment it is promised, so a plan is only reused at pointers at least as aligned.
 */
record Plan(long[] key) {
    static final int AB_TYPE = 0, CD_TYPE = 1, COMPUTE = 2, OPA = 3, OPB = 4,
            A_ROWS = 5, A_COLS = 6, LDA = 7, B_ROWS = 8, B_COLS = 9, LDB = 10, C_ROWS = 11, C_COLS = 12, LDC = 13,
            BATCH = 14, STRIDE_A = 15, STRIDE_B = 16, STRIDE_C = 17,
            EPILOGUE = 18, BIAS_TYPE = 19, AUX_LD = 20, AUX_STRIDE = 21,
            ALIGN_A = 22, ALIGN_B = 23, ALIGN_C = 24, ALIGN_D = 25, COUNT = 26;
    static final int COMPUTE_32F = 68, COMPUTE_32F_FAST_TF32 = 77, OP_N = 0, OP_T = 1;

    /** The plan of {@code g} with d2v's operand addresses a, b, c (c is also the output D). */
    static Plan of(CublasLt.Gemm g, long a, long b, long c) {
        MatmulDesc d = g.desc();
        long m = d.m(), n = d.n(), k = d.k();
        long[] p = new long[COUNT];
        p[AB_TYPE] = g.inputs().cudaType;
        p[CD_TYPE] = g.output().cudaType;
        p[COMPUTE] = g.tf32() ? COMPUTE_32F_FAST_TF32 : COMPUTE_32F;
        // cuBLASLt's A = d2v's B: stored [k, n] row-major = n×k column-major (ld n), or [n, k] = k×n (ld k) if transB.
        p[OPA] = d.transB() ? OP_T : OP_N;
        p[A_ROWS] = d.transB() ? k : n;
        p[A_COLS] = d.transB() ? n : k;
        p[LDA] = p[A_ROWS];
        // cuBLASLt's B = d2v's A: stored [m, k] = k×m column-major (ld k), or [k, m] = m×k (ld m) if transA.
        p[OPB] = d.transA() ? OP_T : OP_N;
        p[B_ROWS] = d.transA() ? m : k;
        p[B_COLS] = d.transA() ? k : m;
        p[LDB] = p[B_ROWS];
        p[C_ROWS] = n;
        p[C_COLS] = m;
        p[LDC] = n;
        p[BATCH] = d.batch();
        p[STRIDE_A] = d.broadcastB() ? 0 : k * n;
        p[STRIDE_B] = m * k;
        p[STRIDE_C] = m * n;
        p[EPILOGUE] = g.epilogue().code;
        // d2v's biases are fp32 parameters whatever the output's type (cuBLASLt's default would be the output's)
        p[BIAS_TYPE] = g.epilogue().usesBias() ? CublasLt.Type.F32.cudaType : -1;
        p[AUX_LD] = g.epilogue().usesAux() ? n : 0;
        p[AUX_STRIDE] = g.epilogue().usesAux() ? m * n : 0;
        int in = g.inputs().bytes(), out = g.output().bytes();
        boolean batched = d.batch() > 1;
        p[ALIGN_A] = alignment(b, batched ? p[STRIDE_A] * in : 0);
        p[ALIGN_B] = alignment(a, batched ? p[STRIDE_B] * in : 0);
        p[ALIGN_C] = alignment(c, batched ? p[STRIDE_C] * out : 0);
        p[ALIGN_D] = p[ALIGN_C];
        return new Plan(p);
    }

    /** Alignment every matrix of a batch keeps: that of the base address and of the stride in bytes. */
    private static int alignment(long address, long strideBytes) {
        int a = NativeHandles.alignment(address);
        return strideBytes == 0 ? a : Math.min(a, NativeHandles.alignment(strideBytes));
    }
}
