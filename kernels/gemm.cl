/* Batched GEMM with bias and GELU epilogues (see org.d2v.backend.MatmulDesc):
   C[p] = act(op(A[p])·op(B[p or 0]) + bias). Work-groups of 16×16 threads compute a 64×64 tile of C,
   each thread 4×4 outputs spaced 16 apart (so stores of neighbouring threads coalesce); the
   K dimension walks in slices of 16 through two tiles in local memory. Correctness first: edges
   load zeros and skip stores, no vector loads, no double buffering. */

#define GEMM_TILE 64
#define GEMM_K 16

KERNEL void gemm(int M, int N, int K, int transA, int transB, int strideA, int strideB, int strideC,
                 GLOBAL const float *A, int ao, GLOBAL const float *B, int bo, GLOBAL const float *bias, int biaso,
                 GLOBAL float *C, int co, GLOBAL float *preact, int po,
                 int hasBias, int gelu, int hasPreact, int accumulate) {
    LOCAL_ARRAY(float, As, GEMM_K * GEMM_TILE);
    LOCAL_ARRAY(float, Bs, GEMM_K * GEMM_TILE);
    int tx = LID(0), ty = LID(1), lid = ty * 16 + tx;
    int col0 = GROUP_ID(0) * GEMM_TILE, row0 = GROUP_ID(1) * GEMM_TILE;
    I64 p = GROUP_ID(2);
    GLOBAL const float *a = A + ao + p * strideA;
    GLOBAL const float *b = B + bo + p * strideB;

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
            if (row < M && kq < K) v = transA ? a[(I64) kq * M + row] : a[(I64) row * K + kq];
            As[kk * GEMM_TILE + r] = v;
            /* B tile: Bs[kk][c] = op(B)[k0 + kk][col0 + c] */
            int c;
            if (transB) { c = e / GEMM_K; kk = e % GEMM_K; } else { kk = e / GEMM_TILE; c = e % GEMM_TILE; }
            int col = col0 + c;
            kq = k0 + kk;
            v = 0.0f;
            if (col < N && kq < K) v = transB ? b[(I64) col * K + kq] : b[(I64) kq * N + col];
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

    GLOBAL float *c = C + co + p * strideC;
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
                if (hasPreact) preact[po + p * strideC + at] = v;
                v = d2v_gelu(v);
            }
            c[at] = accumulate ? c[at] + v : v;
        }
    }
}
