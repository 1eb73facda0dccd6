/*
 * Batched bf16 GEMM on tensor cores (CUDA only; the portable twin is gemm.cl, see MatmulDesc):
 * C[p] (+)= act(op(A[p])·op(B[p or 0]) + bias), bf16 operands, fp32 accumulation, fp32 or bf16 out.
 *
 * One kernel per layout, same signature:
 *   gemm_tc_nn  A [M,K], B [K,N]      (op = identity)
 *   gemm_tc_nt  A [M,K], B [N,K]      (B transposed: x·Wᵀ of a linear layer)
 *   gemm_tc_tn  A [K,M], B [K,N]      (A transposed: the weight gradient dYᵀ·X)
 * A thread block of 256 threads (8 warps, 2 along M × 4 along N) computes a 128×128 tile of C,
 * each warp 64×32 as 4×4 mma.sync.m16n8k16 tiles. K walks in slices of 32 through a 3-stage
 * cp.async ring (3 × (128×32 + 128×32) bf16 = 48 KB: static shared memory, so the kernels launch
 * without a dynamic shared-memory attribute). Operands land in XOR-swizzled tiles (tc.cuh) and
 * reach the tensor cores through ldmatrix (.trans for the operand stored along M or N).
 *
 * Preconditions (checked: a violation writes NaN over the block's tile, so a wrong dispatch fails
 * the self-check instead of reading out of bounds): every operand row is made of whole 16-byte
 * chunks, i.e. the contiguous dimension of A and B is a multiple of 8 (nn: K and N; nt: K; tn: M and
 * N), and the offsets ao, bo and strides strideA, strideB are multiples of 8 elements. Any M, N, K
 * otherwise: edge tiles are zero-filled on load and masked on store.
 *
 * Epilogue, per element, in this order (as gemm.cl): v = acc (+ bias[col]); with gelu, preact = v
 * and v = GELU(v) (exact erf); C = accumulate ? C + v : v. outBf16 selects the output pair:
 * 0 -> C and preact are float (C, preact), 1 -> bf16 (Cb, preactb); the other pair is unused (null).
 * grid (ceil(N/128), ceil(M/128), batch), block (256).
 */
#include "tc.cuh"

#define GT_M 128
#define GT_N 128
#define GT_K 32
#define GT_STAGES 3
#define GT_THREADS 256

/* One operand's slice of K in shared memory: rows = tile rows (M or N), columns = k, when the
   operand is stored with k contiguous ("k-major"); rows = k, columns = M or N otherwise. */
template <bool K_CONTIGUOUS>
struct GemmOperand {
    static const int ROWS = K_CONTIGUOUS ? GT_M : GT_K;
    static const int COLS = K_CONTIGUOUS ? GT_K : GT_M;

    /* Issues this thread's two 16-byte copies of the slice at (tile row/col r0, k0). The operand
       is stored [extent, K] (k-major) or [K, extent] with leading dimension ld. */
    static __device__ __forceinline__ void load(unsigned short *tile, const unsigned short *g, int ld, int extent, int K,
                                                int r0, int k0, int tid) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int q = tid + i * GT_THREADS;
            const int row = q / (COLS / 8), col = (q % (COLS / 8)) * 8;
            int gr, gc;
            bool valid;
            if (K_CONTIGUOUS) { gr = r0 + row; gc = k0 + col; valid = gr < extent && gc < K; }
            else { gr = k0 + row; gc = r0 + col; valid = gr < K && gc < extent; }
            const unsigned short *src = valid ? g + (long long) gr * ld + gc : g;
            cp_async16(tile + swz_at<COLS>(row, col), src, valid);
        }
    }
};

template <bool TRANS_A, bool TRANS_B>
static __device__ __forceinline__ void gemm_tc_body(
        int M, int N, int K, int strideA, int strideB, int strideC,
        const unsigned short *A, int ao, const unsigned short *B, int bo, const float *bias, int biaso,
        float *C, int co, unsigned short *Cb, int cbo, float *preact, int po, unsigned short *preactb, int pbo,
        int hasBias, int gelu, int accumulate, int outBf16) {
    /* A k-major unless transposed; B k-major when transposed ([N,K]). */
    typedef GemmOperand<!TRANS_A> OpA;
    typedef GemmOperand<TRANS_B> OpB;
    __shared__ __align__(128) unsigned short As[GT_STAGES][GT_M * GT_K];
    __shared__ __align__(128) unsigned short Bs[GT_STAGES][GT_N * GT_K];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3; /* warp tile: rows wm*64.., columns wn*32.. */
    const int n0 = blockIdx.x * GT_N, m0 = blockIdx.y * GT_M;
    const long long p = blockIdx.z;
    const int g = lane >> 2, t = lane & 3;

    const int needA = TRANS_A ? M : K, needB = TRANS_B ? K : N;
    const bool ok = ((needA | needB | ao | bo | strideA | strideB) & 7) == 0;
    if (!ok) { /* precondition violated: poison this tile (see the header) */
        for (int e = tid; e < GT_M * GT_N; e += GT_THREADS) {
            const int row = m0 + e / GT_N, col = n0 + e % GT_N;
            if (row >= M || col >= N) continue;
            const long long at = p * strideC + (long long) row * N + col;
            if (outBf16) Cb[cbo + at] = 0x7fc0; else C[co + at] = __int_as_float(0x7fc00000);
        }
        return;
    }

    const unsigned short *a = A + ao + p * strideA;
    const unsigned short *b = B + bo + p * strideB;
    const int lda = TRANS_A ? M : K, ldb = TRANS_B ? K : N;

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

    const int kTiles = (K + GT_K - 1) / GT_K;
#pragma unroll
    for (int s = 0; s < GT_STAGES - 1; s++) {
        if (s < kTiles) {
            OpA::load(As[s], a, lda, M, K, m0, s * GT_K, tid);
            OpB::load(Bs[s], b, ldb, N, K, n0, s * GT_K, tid);
        }
        cp_async_commit();
    }

    for (int kt = 0; kt < kTiles; kt++) {
        cp_async_wait<GT_STAGES - 2>(); /* slice kt has landed (for this thread) ... */
        __syncthreads();                /* ... for every thread; and slice kt-1 is consumed */
        const int next = kt + GT_STAGES - 1;
        if (next < kTiles) {
            OpA::load(As[next % GT_STAGES], a, lda, M, K, m0, next * GT_K, tid);
            OpB::load(Bs[next % GT_STAGES], b, ldb, N, K, n0, next * GT_K, tid);
        }
        cp_async_commit();

        const unsigned short *as = As[kt % GT_STAGES];
        const unsigned short *bs = Bs[kt % GT_STAGES];
#pragma unroll
        for (int kk = 0; kk < GT_K; kk += 16) {
            unsigned int af[4][4], bf[2][4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const int r0 = wm * 64 + i * 16;
                if (TRANS_A) ldmatrix_x4_trans(af[i], as + frag_a_colmajor<OpA::COLS>(lane, r0, kk));
                else ldmatrix_x4(af[i], as + frag_a_rowmajor<OpA::COLS>(lane, r0, kk));
            }
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const int c0 = wn * 32 + j * 16;
                if (TRANS_B) ldmatrix_x4(bf[j], bs + frag_b_nmajor<OpB::COLS>(lane, c0, kk));
                else ldmatrix_x4_trans(bf[j], bs + frag_b_kmajor<OpB::COLS>(lane, c0, kk));
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) mma_bf16(acc[i][j], af[i], bf[j >> 1][(j & 1) * 2], bf[j >> 1][(j & 1) * 2 + 1]);
        }
    }

    /* Epilogue: each thread owns pairs of adjacent columns; a pair is stored as one 8-byte (fp32)
       or 4-byte (bf16) access when the row start keeps it aligned. */
    const long long cBase = p * strideC;
    const bool pairs = ((N | strideC | (outBf16 ? cbo | pbo : co | po)) & 1) == 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int row = m0 + wm * 64 + i * 16 + g + half * 8;
            if (row >= M) continue;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int col = n0 + wn * 32 + j * 8 + 2 * t;
                if (col >= N) continue;
                const bool two = col + 1 < N;
                float v[2] = {acc[i][j][half * 2], acc[i][j][half * 2 + 1]};
                if (hasBias) {
                    v[0] += bias[biaso + col];
                    if (two) v[1] += bias[biaso + col + 1];
                }
                const long long at = cBase + (long long) row * N + col;
                if (gelu) {
                    if (outBf16) {
                        if (preactb != 0) {
                            if (two && pairs) *(unsigned int *) (preactb + pbo + at) = pack_bf16x2(v[0], v[1]);
                            else { preactb[pbo + at] = float_to_bf16(v[0]); if (two) preactb[pbo + at + 1] = float_to_bf16(v[1]); }
                        }
                    } else if (preact != 0) {
                        if (two && pairs) *(float2 *) (preact + po + at) = make_float2(v[0], v[1]);
                        else { preact[po + at] = v[0]; if (two) preact[po + at + 1] = v[1]; }
                    }
                    v[0] = d2v_gelu(v[0]);
                    v[1] = d2v_gelu(v[1]);
                }
                if (outBf16) {
                    unsigned short *c = Cb + cbo + at;
                    if (two && pairs) {
                        unsigned int *w = (unsigned int *) c;
                        if (accumulate) { const unsigned int old = *w; v[0] += bf16_lo(old); v[1] += bf16_hi(old); }
                        *w = pack_bf16x2(v[0], v[1]);
                    } else {
                        if (accumulate) v[0] += bf16_to_float(c[0]);
                        c[0] = float_to_bf16(v[0]);
                        if (two) { if (accumulate) v[1] += bf16_to_float(c[1]); c[1] = float_to_bf16(v[1]); }
                    }
                } else {
                    float *c = C + co + at;
                    if (two && pairs) {
                        float2 *w = (float2 *) c;
                        if (accumulate) { const float2 old = *w; v[0] += old.x; v[1] += old.y; }
                        *w = make_float2(v[0], v[1]);
                    } else {
                        c[0] = accumulate ? c[0] + v[0] : v[0];
                        if (two) c[1] = accumulate ? c[1] + v[1] : v[1];
                    }
                }
            }
        }
    }
}

KERNEL void gemm_tc_nn(int M, int N, int K, int strideA, int strideB, int strideC,
                       GLOBAL const unsigned short *A, int ao, GLOBAL const unsigned short *B, int bo,
                       GLOBAL const float *bias, int biaso, GLOBAL float *C, int co, GLOBAL unsigned short *Cb, int cbo,
                       GLOBAL float *preact, int po, GLOBAL unsigned short *preactb, int pbo,
                       int hasBias, int gelu, int accumulate, int outBf16) {
    gemm_tc_body<false, false>(M, N, K, strideA, strideB, strideC, A, ao, B, bo, bias, biaso, C, co, Cb, cbo,
                               preact, po, preactb, pbo, hasBias, gelu, accumulate, outBf16);
}

KERNEL void gemm_tc_nt(int M, int N, int K, int strideA, int strideB, int strideC,
                       GLOBAL const unsigned short *A, int ao, GLOBAL const unsigned short *B, int bo,
                       GLOBAL const float *bias, int biaso, GLOBAL float *C, int co, GLOBAL unsigned short *Cb, int cbo,
                       GLOBAL float *preact, int po, GLOBAL unsigned short *preactb, int pbo,
                       int hasBias, int gelu, int accumulate, int outBf16) {
    gemm_tc_body<false, true>(M, N, K, strideA, strideB, strideC, A, ao, B, bo, bias, biaso, C, co, Cb, cbo,
                              preact, po, preactb, pbo, hasBias, gelu, accumulate, outBf16);
}

KERNEL void gemm_tc_tn(int M, int N, int K, int strideA, int strideB, int strideC,
                       GLOBAL const unsigned short *A, int ao, GLOBAL const unsigned short *B, int bo,
                       GLOBAL const float *bias, int biaso, GLOBAL float *C, int co, GLOBAL unsigned short *Cb, int cbo,
                       GLOBAL float *preact, int po, GLOBAL unsigned short *preactb, int pbo,
                       int hasBias, int gelu, int accumulate, int outBf16) {
    gemm_tc_body<true, false>(M, N, K, strideA, strideB, strideC, A, ao, B, bo, bias, biaso, C, co, Cb, cbo,
                              preact, po, preactb, pbo, hasBias, gelu, accumulate, outBf16);
}
