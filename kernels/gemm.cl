/* Batched GEMM with bias and GELU epilogues (see org.d2v.backend.MatmulDesc):
   C[p] = act(op(A[p])·op(B[p or 0]) + bias). Three variants with one signature; KernelOps.matmul
   picks one by the device's capabilities (KernelVariants) and the layout:
    - gemm: the GPU shape. Work-groups of 16×16 threads compute a 64×64 tile of C, each thread 4×4
      outputs spaced 16 apart (so stores of neighbouring threads coalesce); the K dimension walks in
      slices of 16 through two tiles in local memory.
    - gemm_outer / gemm_dot: the CPU (PoCL) shape. No local memory and no barriers (on PoCL every
      value live across a barrier is spilled to a per-work-item array), each work-item keeps a
      register tile and reads straight from global memory along contiguous runs that LLVM turns
      into AVX. `#pragma unroll` on the tile loops keeps the tiles in registers; the contiguous
      innermost loops stay rolled so the loop vectoriser, not SLP, handles them.
   Edges load clamped (valid) elements and skip their stores.
   Storage (d2v.h): A and B are ACT, C and preact OUT, bias float; products accumulate in float and
   the epilogue rounds once, so a bf16 GEMM writes bf16 directly (flavour bf16) or adds a bf16
   product into fp32 gradients (flavour bf16-f32). */

#define GEMM_TILE 64
#define GEMM_K 16

KERNEL void gemm(int M, int N, int K, int transA, int transB, int strideA, int strideB, int strideC,
                 GLOBAL const ACT *A, int ao, GLOBAL const ACT *B, int bo, GLOBAL const float *bias, int biaso,
                 GLOBAL OUT *C, int co, GLOBAL OUT *preact, int po,
                 int hasBias, int gelu, int hasPreact, int accumulate) {
    LOCAL_ARRAY(float, As, GEMM_K * GEMM_TILE);
    LOCAL_ARRAY(float, Bs, GEMM_K * GEMM_TILE);
    int tx = LID(0), ty = LID(1), lid = ty * 16 + tx;
    int col0 = GROUP_ID(0) * GEMM_TILE, row0 = GROUP_ID(1) * GEMM_TILE;
    I64 p = GROUP_ID(2);
    GLOBAL const ACT *a = A + ao + p * strideA;
    GLOBAL const ACT *b = B + bo + p * strideB;

    float acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += GEMM_K) {
        for (int l = 0; l < 4; l++) {
            int e = lid + 256 * l;
            /* A tile: As[kk][r] = op(A)[row0 + r][k0 + kk], read along A's contiguous axis */
            int r, kk;
            if (transA) { kk = e / GEMM_TILE; r = e % GEMM_TILE; } else { r = e / GEMM_K; kk = e % GEMM_K; }
            int row = row0 + r, kq = k0 + kk;
            float v = 0.0f;
            if (row < M && kq < K) v = ACT_LD(transA ? a[(I64) kq * M + row] : a[(I64) row * K + kq]);
            As[kk * GEMM_TILE + r] = v;
            /* B tile: Bs[kk][c] = op(B)[k0 + kk][col0 + c] */
            int c;
            if (transB) { c = e / GEMM_K; kk = e % GEMM_K; } else { kk = e / GEMM_TILE; c = e % GEMM_TILE; }
            int col = col0 + c;
            kq = k0 + kk;
            v = 0.0f;
            if (col < N && kq < K) v = ACT_LD(transB ? b[(I64) col * K + kq] : b[(I64) kq * N + col]);
            Bs[kk * GEMM_TILE + c] = v;
        }
        BARRIER();
        for (int kk = 0; kk < GEMM_K; kk++) {
            float av[4], bv[4];
            for (int i = 0; i < 4; i++) av[i] = As[kk * GEMM_TILE + ty + 16 * i];
            for (int j = 0; j < 4; j++) bv[j] = Bs[kk * GEMM_TILE + tx + 16 * j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] = FMA(av[i], bv[j], acc[i][j]);
        }
        BARRIER();
    }

    GLOBAL OUT *c = C + co + p * strideC;
    for (int i = 0; i < 4; i++) {
        int row = row0 + ty + 16 * i;
        if (row >= M) continue;
        for (int j = 0; j < 4; j++) {
            int col = col0 + tx + 16 * j;
            if (col >= N) continue;
            float v = acc[i][j];
            if (hasBias) v += bias[biaso + col];
            I64 at = (I64) row * N + col;
            if (gelu) {
                if (hasPreact) preact[po + p * strideC + at] = OUT_ST(v);
                v = d2v_gelu(v);
            }
            c[at] = OUT_ST(accumulate ? OUT_LD(c[at]) + v : v);
        }
    }
}

/* ---------------------------------------------------------------- register-blocked variants */

#define OUTER_TM 4
#define OUTER_TN 16
#define DOT_TM 4
#define DOT_TN 4
#define DOT_LANES 8

/* The epilogue of the barrier-free variants below: bias, then store or accumulate. They never
   apply GELU (the launcher runs the elementwise GELU kernel after them): inlining the erf of d2v.h
   here made PoCL compile their main loops ~14× slower even when GELU was off. */
DEVICE_FN void gemm_store_linear(float v, int row, int col, I64 p, int N, int strideC, GLOBAL const float *bias,
                                 int biaso, GLOBAL OUT *C, int co, int hasBias, int accumulate) {
    if (hasBias) v += bias[biaso + col];
    I64 at = p * strideC + (I64) row * N + col;
    C[co + at] = OUT_ST(accumulate ? OUT_LD(C[co + at]) + v : v);
}

/* Outer products: a work-item owns OUTER_TM rows × OUTER_TN columns of C and, for each k, multiplies
   OUTER_TM scalars of op(A) by a contiguous run of OUTER_TN values of B (row k of an untransposed B).
   Any layout is correct; transB and edge tiles take the slower gathering loop.
   global (ceil(N/OUTER_TN), ceil(M/OUTER_TM), batch), rounded up to the group. */
KERNEL void gemm_outer(int M, int N, int K, int transA, int transB, int strideA, int strideB, int strideC,
                       GLOBAL const ACT *A, int ao, GLOBAL const ACT *B, int bo, GLOBAL const float *bias, int biaso,
                       GLOBAL OUT *C, int co, GLOBAL OUT *preact, int po,
                       int hasBias, int gelu, int hasPreact, int accumulate) {
    int j0 = GID(0) * OUTER_TN, i0 = GID(1) * OUTER_TM;
    I64 p = GID(2);
    if (j0 >= N || i0 >= M) return;
    GLOBAL const ACT *a = A + ao + p * strideA;
    GLOBAL const ACT *b = B + bo + p * strideB;
    I64 aRow = transA ? 1 : K, aK = transA ? M : 1;
    float acc[OUTER_TM][OUTER_TN];
#pragma unroll
    for (int i = 0; i < OUTER_TM; i++)
#pragma unroll
        for (int j = 0; j < OUTER_TN; j++) acc[i][j] = 0.0f;
    if (i0 + OUTER_TM <= M && j0 + OUTER_TN <= N && !transB) {
        for (int k = 0; k < K; k++) {
            GLOBAL const ACT *bk = b + (I64) k * N + j0;
            float av[OUTER_TM];
#pragma unroll
            for (int i = 0; i < OUTER_TM; i++) av[i] = ACT_LD(a[(i0 + i) * aRow + k * aK]);
#pragma unroll
            for (int i = 0; i < OUTER_TM; i++)
#pragma unroll
                for (int j = 0; j < OUTER_TN; j++) acc[i][j] = FMA(av[i], ACT_LD(bk[j]), acc[i][j]);
        }
    } else {
        I64 bCol = transB ? K : 1, bK = transB ? 1 : N;
        for (int k = 0; k < K; k++) {
            float av[OUTER_TM], bv[OUTER_TN];
#pragma unroll
            for (int i = 0; i < OUTER_TM; i++) av[i] = ACT_LD(a[min(i0 + i, M - 1) * aRow + k * aK]);
#pragma unroll
            for (int j = 0; j < OUTER_TN; j++) bv[j] = ACT_LD(b[min(j0 + j, N - 1) * bCol + k * bK]);
#pragma unroll
            for (int i = 0; i < OUTER_TM; i++)
#pragma unroll
                for (int j = 0; j < OUTER_TN; j++) acc[i][j] = FMA(av[i], bv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < OUTER_TM; i++)
        for (int j = 0; j < OUTER_TN; j++)
            if (i0 + i < M && j0 + j < N)
                gemm_store_linear(acc[i][j], i0 + i, j0 + j, p, N, strideC, bias, biaso, C, co, hasBias, accumulate);
}

/* Dot products, for op(A) = A and op(B) = Bᵀ (both contiguous along k, the x·Wᵀ of a linear layer):
   a work-item owns DOT_TM × DOT_TN outputs and keeps DOT_LANES partial sums of each, lane l summing
   k ≡ l (mod DOT_LANES), so the k loop vectorises without reassociating; the lanes are added in a
   fixed tree at the end (deterministic). transA and transB are ignored (the launcher guarantees
   0 and 1). global (ceil(N/DOT_TN), ceil(M/DOT_TM), batch), rounded up to the group. */
KERNEL void gemm_dot(int M, int N, int K, int transA, int transB, int strideA, int strideB, int strideC,
                     GLOBAL const ACT *A, int ao, GLOBAL const ACT *B, int bo, GLOBAL const float *bias, int biaso,
                     GLOBAL OUT *C, int co, GLOBAL OUT *preact, int po,
                     int hasBias, int gelu, int hasPreact, int accumulate) {
    int j0 = GID(0) * DOT_TN, i0 = GID(1) * DOT_TM;
    I64 p = GID(2);
    if (j0 >= N || i0 >= M) return;
    GLOBAL const ACT *ar[DOT_TM];
    GLOBAL const ACT *br[DOT_TN];
#pragma unroll
    for (int i = 0; i < DOT_TM; i++) ar[i] = A + ao + p * strideA + (I64) min(i0 + i, M - 1) * K;
#pragma unroll
    for (int j = 0; j < DOT_TN; j++) br[j] = B + bo + p * strideB + (I64) min(j0 + j, N - 1) * K;
    float acc[DOT_TM][DOT_TN][DOT_LANES];
#pragma unroll
    for (int i = 0; i < DOT_TM; i++)
#pragma unroll
        for (int j = 0; j < DOT_TN; j++)
#pragma unroll
            for (int l = 0; l < DOT_LANES; l++) acc[i][j][l] = 0.0f;
    int kBody = K - K % DOT_LANES;
    for (int k = 0; k < kBody; k += DOT_LANES) {
        float av[DOT_TM][DOT_LANES], bv[DOT_TN][DOT_LANES];
#pragma unroll
        for (int i = 0; i < DOT_TM; i++)
#pragma unroll
            for (int l = 0; l < DOT_LANES; l++) av[i][l] = ACT_LD(ar[i][k + l]);
#pragma unroll
        for (int j = 0; j < DOT_TN; j++)
#pragma unroll
            for (int l = 0; l < DOT_LANES; l++) bv[j][l] = ACT_LD(br[j][k + l]);
#pragma unroll
        for (int i = 0; i < DOT_TM; i++)
#pragma unroll
            for (int j = 0; j < DOT_TN; j++)
                for (int l = 0; l < DOT_LANES; l++) acc[i][j][l] = FMA(av[i][l], bv[j][l], acc[i][j][l]);
    }
    for (int k = kBody; k < K; k++)
#pragma unroll
        for (int i = 0; i < DOT_TM; i++)
#pragma unroll
            for (int j = 0; j < DOT_TN; j++) acc[i][j][0] = FMA(ACT_LD(ar[i][k]), ACT_LD(br[j][k]), acc[i][j][0]);
    for (int i = 0; i < DOT_TM; i++)
        for (int j = 0; j < DOT_TN; j++) {
            if (i0 + i >= M || j0 + j >= N) continue;
            float s = ((acc[i][j][0] + acc[i][j][4]) + (acc[i][j][1] + acc[i][j][5]))
                    + ((acc[i][j][2] + acc[i][j][6]) + (acc[i][j][3] + acc[i][j][7]));
            gemm_store_linear(s, i0 + i, j0 + j, p, N, strideC, bias, biaso, C, co, hasBias, accumulate);
        }
}
