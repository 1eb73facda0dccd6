/*
 * FlashAttention-2-style attention on tensor cores (CUDA only; the portable twin is attention.cl,
 * see AttentionDesc for layouts and semantics). bf16 qkv [B,T,3,H,Dh], out and dout [B,T,H,Dh],
 * dqkv [B,T,3,H,Dh]; fp32 lse and delta [B,H,T]; fp32 accumulation and softmax statistics.
 * One kernel per head size D in {32, 64, 128} (the suffix _d32/_d64/_d128); the Dh argument must
 * equal it (else the kernel writes NaN over its outputs, so a wrong dispatch fails loudly).
 *
 * Packed sequences: a block takes a tile of rows of the flattened (b, t) index of one head, so one
 * tile holds several short sequences (the student's ~40 tokens) and no row is padding unless the
 * whole batch ends. The keys it visits are those of the sequences its rows belong to (a contiguous
 * range of the flattened index); scores between different sequences are masked, and each warp skips
 * every 16-key block that lies outside its own rows' sequences, so a warp whose 16 rows sit in one
 * sequence of 40 does about 48 keys of work per row, not the tile's.
 *
 * Semantics as attention.cl: logits = scale·q·k − slope[h]·max(alibiScale[h], 0)·|pos_i − pos_j|,
 * padded keys (keyPadding[b,j] != 0) are excluded; a row with no key gets out 0 and lse −∞;
 * dropout on the probabilities with the Philox word of element ((b·H + h)·T + i)·T + j of stream
 * (seed, offset), kept when word ≥ dropThreshold, scaled by dropScale; l and lse stay un-dropped.
 * Backward as attention.cl, deterministic (no atomics): attention_tc_delta (delta = rowsum(dO⊙O)),
 * then attention_tc_backward_kv_* (dK, dV: one block per key tile, walking the query tiles of its
 * sequences), then attention_tc_backward_q_* (dQ, one block per query tile; with ALiBi it replaces
 * delta by each row's share of ∂L/∂alibiScale, as attention_backward_q), then the portable
 * attention_alibi_grad. Exponentials are taken base 2 (exp2 of log2e-scaled logits): the same
 * function, rounded differently from attention.cl's exp.
 *
 * Preconditions (checked, NaN on violation): qkvOff, doutOff and dqkvOff multiples of 8 (16-byte
 * rows for cp.async), outOff even. Launch geometry:
 *   forward, backward_q:  grid (ceil(B·T/64), H), block 128
 *   backward_kv:          grid (ceil(B·T/KEYS), H), block KEYS·2 with KEYS = 64 (d32, d64), 32 (d128)
 *   delta:                grid (any, e.g. min(ceil(B·T·H·Dh/8/256), 1056)), block 256
 * Shared memory is static and at most 48 KB per block.
 */
#include "tc.cuh"

#define ATT_LOG2E 1.4426950408889634f
#define ATT_LN2 0.6931471805599453f
#define ATT_ROWS 64 /* query rows per block in forward and backward_q (4 warps × 16) */

static __device__ __forceinline__ float att_neg_inf() { return __int_as_float(0xff800000); }

/* The dropout word of element e: word e mod 4 of Philox block offset + e/4 (constant indices only,
   so the four words stay in registers). */
static __device__ __forceinline__ unsigned int att_word(unsigned long long seed, unsigned long long offset,
                                                         unsigned long long e) {
    U32 w[4];
    d2v_philox(offset + e / 4, seed, w);
    const int s = (int) (e & 3);
    return s == 0 ? w[0] : s == 1 ? w[1] : s == 2 ? w[2] : w[3];
}

/* The dropout factors of elements e and e + 1 (one Philox block unless e mod 4 == 3). e may be
   "−1" (2⁶⁴ − 1) when only e + 1 is in the row's sequence: its factor is then unused. */
static __device__ __forceinline__ void att_keep2(unsigned long long seed, unsigned long long offset, unsigned long long e,
                                                 long long threshold, float scaleKept, float &z0, float &z1) {
    U32 w[4];
    d2v_philox(offset + e / 4, seed, w);
    const int s = (int) (e & 3);
    const unsigned int w0 = s == 0 ? w[0] : s == 1 ? w[1] : s == 2 ? w[2] : w[3];
    unsigned int w1;
    if (s == 3) {
        U32 v[4];
        d2v_philox(offset + (e + 1) / 4, seed, v);
        w1 = v[0];
    } else {
        w1 = s == 0 ? w[1] : s == 1 ? w[2] : w[3];
    }
    z0 = (long long) w0 >= threshold ? scaleKept : 0.0f;
    z1 = (long long) w1 >= threshold ? scaleKept : 0.0f;
}

/* Sum over the 4 lanes of a quad (the lanes that share an accumulator row). */
static __device__ __forceinline__ float quad_sum(float v) {
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    return v;
}

static __device__ __forceinline__ float quad_max(float v) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
    return v;
}

/* Loads 16-byte chunks of `rows` rows (D bf16 each, row r at src + r·stride) into a swizzled tile;
   rows at or past `limit` (relative to the first) are zero-filled. */
template <int D, int ROWS, int THREADS>
static __device__ __forceinline__ void att_load_rows(unsigned short *tile, const unsigned short *src, long long stride,
                                                     int limit, int tid) {
    const int CH = D / 8;
#pragma unroll
    for (int i = 0; i < ROWS * CH / THREADS; i++) {
        const int q = tid + i * THREADS;
        const int r = q / CH, c = (q % CH) * 8;
        const bool valid = r < limit;
        cp_async16(tile + swz_at<D>(r, c), valid ? src + r * stride + c : src, valid);
    }
}

/* A-operand fragments of one row pair (rows rLo, rLo + 8) straight from global memory: rows are read
   once per block, so ldmatrix through shared memory would buy nothing. */
template <int D>
static __device__ __forceinline__ void att_rows_to_a(unsigned int (&f)[D / 16][4], const unsigned short *lo,
                                                     const unsigned short *hi, int t) {
#pragma unroll
    for (int kc = 0; kc < D / 16; kc++) {
        const int c = kc * 16 + 2 * t;
        f[kc][0] = lo ? *(const unsigned int *) (lo + c) : 0u;
        f[kc][1] = hi ? *(const unsigned int *) (hi + c) : 0u;
        f[kc][2] = lo ? *(const unsigned int *) (lo + c + 8) : 0u;
        f[kc][3] = hi ? *(const unsigned int *) (hi + c + 8) : 0u;
    }
}

/* Writes a 16×D fp32 accumulator block (rows lo, hi) as bf16 pairs, scaled, optionally added. */
template <int D>
static __device__ __forceinline__ void att_store_rows(const float (&acc)[D / 8][4], unsigned short *lo, unsigned short *hi,
                                                      float sLo, float sHi, int t, int accumulate) {
#pragma unroll
    for (int n = 0; n < D / 8; n++) {
        const int c = n * 8 + 2 * t;
#pragma unroll
        for (int half = 0; half < 2; half++) {
            unsigned short *row = half ? hi : lo;
            if (row == 0) continue;
            const float s = half ? sHi : sLo;
            float v0 = acc[n][half * 2] * s, v1 = acc[n][half * 2 + 1] * s;
            unsigned int *w = (unsigned int *) (row + c);
            if (accumulate) { const unsigned int old = *w; v0 += bf16_lo(old); v1 += bf16_hi(old); }
            *w = pack_bf16x2(v0, v1);
        }
    }
}

/* The geometry every attention kernel shares. */
struct AttGeom {
    int B, T, H, BT, rowStride;
    float scaleLog2, coefLog2;
};

static __device__ __forceinline__ AttGeom att_geom(int B, int T, int H, int D, float scale, int alibi,
                                                   const float *slopes, int slopesOff, const float *ascale, int ascaleOff, int h) {
    AttGeom g;
    g.B = B; g.T = T; g.H = H; g.BT = B * T; g.rowStride = 3 * H * D;
    g.scaleLog2 = scale * ATT_LOG2E;
    g.coefLog2 = alibi ? slopes[slopesOff + h] * fmaxf(ascale[ascaleOff + h], 0.0f) * ATT_LOG2E : 0.0f;
    return g;
}

/* First and one-past-last flattened index of the sequences that rows first..last belong to. */
static __device__ __forceinline__ void att_seq_range(int first, int last, int T, int &lo, int &hi) {
    lo = (first / T) * T;
    hi = (last / T + 1) * T;
}

/* ================================================================ forward */

template <int D, int BC>
static __device__ __forceinline__ void att_forward(
        const unsigned short *qkv, int qkvOff, const float *slopes, int slopesOff, const float *ascale, int ascaleOff,
        const int *pos, int posOff, const int *pad, int padOff, unsigned short *out, int outOff, float *lse, int lseOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        long long dropThreshold, float dropScale, long long seed, long long offset) {
    const int KC = D / 16, NC = BC / 8, NP = BC / 16, DN = D / 8;
    __shared__ __align__(128) unsigned short Ks[2][BC * D];
    __shared__ __align__(128) unsigned short Vs[2][BC * D];
    __shared__ int kpos[2][BC], kpad[2][BC];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int h = blockIdx.y;
    const int R0 = blockIdx.x * ATT_ROWS;
    const int BT = B * T;
    if (Dh != D || ((qkvOff & 7) | (outOff & 1)) != 0) { /* wrong dispatch: poison this block's rows */
        const int r = R0 + tid;
        if (tid < ATT_ROWS && r < BT) {
            for (int c = 0; c < Dh; c++) out[outOff + ((long long) r * H + h) * Dh + c] = 0x7fc0;
            lse[lseOff + ((long long) (r / T) * H + h) * T + r % T] = __int_as_float(0x7fc00000);
        }
        return;
    }
    const AttGeom G = att_geom(B, T, H, D, scale, alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const unsigned short *base = qkv + qkvOff + h * D;

    int kLo, kHi;
    att_seq_range(R0, min(R0 + ATT_ROWS, BT) - 1, T, kLo, kHi);
    const int w0 = R0 + warp * 16;
    const bool wActive = w0 < BT;
    int wLo = 0, wHi = 0;
    if (wActive) att_seq_range(w0, min(w0 + 15, BT - 1), T, wLo, wHi);

    /* this thread's two rows: w0 + g and w0 + g + 8 */
    int row[2], sLo[2], sHi[2], prow[2];
    unsigned long long rowBase[2];
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        row[ri] = w0 + g + ri * 8;
        const bool ok = row[ri] < BT;
        const int b = ok ? row[ri] / T : 0, i = ok ? row[ri] - b * T : 0;
        sLo[ri] = ok ? b * T : 0;
        sHi[ri] = ok ? b * T + T : 0; /* empty range: no valid key */
        prow[ri] = (ok && alibi) ? pos[posOff + row[ri]] : 0;
        rowBase[ri] = ((unsigned long long) (b * H + h) * T + i) * (unsigned long long) T;
    }
    unsigned int qf[KC][4];
    att_rows_to_a<D>(qf, row[0] < BT ? base + (long long) row[0] * G.rowStride : 0,
                     row[1] < BT ? base + (long long) row[1] * G.rowStride : 0, t);

    float o[DN][4];
#pragma unroll
    for (int n = 0; n < DN; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[n][e] = 0.0f;
    float m[2] = {att_neg_inf(), att_neg_inf()}, l[2] = {0.0f, 0.0f};

    const int tiles = (kHi - kLo + BC - 1) / BC;
    /* one stage: BC rows of K and V (zero past kHi) and their positions and padding flags */
    auto load = [&](int stage, int j0) {
        const unsigned short *k = base + (long long) j0 * G.rowStride + H * D;
        att_load_rows<D, BC, 128>(Ks[stage], k, G.rowStride, kHi - j0, tid);
        att_load_rows<D, BC, 128>(Vs[stage], k + H * D, G.rowStride, kHi - j0, tid);
        if (tid < BC) {
            const int j = j0 + tid;
            kpos[stage][tid] = (alibi && j < kHi) ? pos[posOff + j] : 0;
            kpad[stage][tid] = (keyPadding && j < kHi) ? pad[padOff + j] : 0;
        }
    };
    load(0, kLo);
    cp_async_commit();
    for (int it = 0; it < tiles; it++) {
        cp_async_wait<0>();
        __syncthreads(); /* tile it is in; every warp is done with tile it - 1 */
        if (it + 1 < tiles) load((it + 1) & 1, kLo + (it + 1) * BC);
        cp_async_commit();
        const int st = it & 1, j0 = kLo + it * BC;
        if (!wActive || j0 >= wHi || j0 + BC <= wLo) continue; /* no key of this warp's sequences */

        bool act[NP];
        float s[NC][4];
#pragma unroll
        for (int np = 0; np < NP; np++) {
            act[np] = j0 + 16 * np < wHi && j0 + 16 * np + 16 > wLo;
#pragma unroll
            for (int e = 0; e < 4; e++) s[2 * np][e] = s[2 * np + 1][e] = 0.0f;
            if (!act[np]) continue;
#pragma unroll
            for (int kc = 0; kc < KC; kc++) {
                unsigned int kb[4];
                ldmatrix_x4(kb, Ks[st] + frag_b_nmajor<D>(lane, 16 * np, 16 * kc));
                mma_bf16(s[2 * np], qf[kc], kb[0], kb[1]);
                mma_bf16(s[2 * np + 1], qf[kc], kb[2], kb[3]);
            }
        }
        /* logits in log2 units, masked to −∞; the tile's row maxima */
        float mt[2] = {att_neg_inf(), att_neg_inf()};
#pragma unroll
        for (int nc = 0; nc < NC; nc++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int ri = e >> 1, jl = 8 * nc + 2 * t + (e & 1), j = j0 + jl;
                const bool valid = act[nc / 2] && j >= sLo[ri] && j < sHi[ri] && kpad[st][jl] == 0;
                const float dist = fabsf((float) (prow[ri] - kpos[st][jl]));
                s[nc][e] = valid ? s[nc][e] * G.scaleLog2 - G.coefLog2 * dist : att_neg_inf();
                mt[ri] = fmaxf(mt[ri], s[nc][e]);
            }
        float mUse[2];
#pragma unroll
        for (int ri = 0; ri < 2; ri++) {
            const float mNew = fmaxf(m[ri], quad_max(mt[ri]));
            mUse[ri] = mNew == att_neg_inf() ? 0.0f : mNew; /* no key yet: exp2(−∞ − 0) = 0 */
            const float corr = exp2f(m[ri] - mUse[ri]);
            l[ri] *= corr;
#pragma unroll
            for (int n = 0; n < DN; n++) { o[n][ri * 2] *= corr; o[n][ri * 2 + 1] *= corr; }
            m[ri] = mNew;
        }
#pragma unroll
        for (int nc = 0; nc < NC; nc++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[nc][e] = exp2f(s[nc][e] - mUse[e >> 1]);
                l[e >> 1] += s[nc][e];
            }
            if (dropThreshold > 0) {
#pragma unroll
                for (int ri = 0; ri < 2; ri++) {
                    const int j = j0 + 8 * nc + 2 * t;
                    float z0 = 0.0f, z1 = 0.0f;
                    if (act[nc / 2] && j + 1 >= sLo[ri] && j < sHi[ri]) {
                        /* elements (i, j), (i, j + 1) of the row's sequence; one outside it is masked anyway */
                        att_keep2((unsigned long long) seed, (unsigned long long) offset,
                                  rowBase[ri] + (unsigned long long) (j - sLo[ri]), dropThreshold, dropScale, z0, z1);
                    }
                    s[nc][ri * 2] *= z0;
                    s[nc][ri * 2 + 1] *= z1;
                }
            }
        }
        /* O += P·V, P (dropped, unnormalised) rounded to bf16 as the A operand */
#pragma unroll
        for (int np = 0; np < NP; np++) {
            if (!act[np]) continue;
            unsigned int pa[4];
            c_to_a(pa, s[2 * np], s[2 * np + 1]);
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                unsigned int vb[4];
                ldmatrix_x4_trans(vb, Vs[st] + frag_b_kmajor<D>(lane, 16 * dp, 16 * np));
                mma_bf16(o[2 * dp], pa, vb[0], vb[1]);
                mma_bf16(o[2 * dp + 1], pa, vb[2], vb[3]);
            }
        }
    }
    if (!wActive) return;
    float inv[2];
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        l[ri] = quad_sum(l[ri]);
        inv[ri] = l[ri] > 0.0f ? 1.0f / l[ri] : 0.0f;
    }
    att_store_rows<D>(o, row[0] < BT ? out + outOff + ((long long) row[0] * H + h) * D : 0,
                      row[1] < BT ? out + outOff + ((long long) row[1] * H + h) * D : 0, inv[0], inv[1], t, 0);
    if (t == 0) {
#pragma unroll
        for (int ri = 0; ri < 2; ri++) {
            if (row[ri] >= BT) continue;
            const int b = row[ri] / T, i = row[ri] - b * T;
            lse[lseOff + ((long long) b * H + h) * T + i] = l[ri] > 0.0f ? m[ri] * ATT_LN2 + logf(l[ri]) : att_neg_inf();
        }
    }
}

/* ================================================================ backward: dQ (+ ALiBi shares) */

template <int D, int BC>
static __device__ __forceinline__ void att_backward_q(
        const unsigned short *qkv, int qkvOff, const float *slopes, int slopesOff, const float *ascale, int ascaleOff,
        const int *pos, int posOff, const int *pad, int padOff, const unsigned short *dout, int doutOff,
        const float *lse, int lseOff, float *delta, int deltaOff, unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        long long dropThreshold, float dropScale, long long seed, long long offset, int accumulate) {
    const int KC = D / 16, NC = BC / 8, NP = BC / 16, DN = D / 8;
    __shared__ __align__(128) unsigned short Ks[2][BC * D];
    __shared__ __align__(128) unsigned short Vs[2][BC * D];
    __shared__ int kpos[2][BC], kpad[2][BC];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int h = blockIdx.y;
    const int R0 = blockIdx.x * ATT_ROWS;
    const int BT = B * T;
    if (Dh != D || ((qkvOff | doutOff | dqkvOff) & 7) != 0) {
        const int r = R0 + tid;
        if (tid < ATT_ROWS && r < BT)
            for (int c = 0; c < Dh; c++) dqkv[dqkvOff + (long long) r * 3 * H * Dh + h * Dh + c] = 0x7fc0;
        return;
    }
    const AttGeom G = att_geom(B, T, H, D, scale, alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const unsigned short *base = qkv + qkvOff + h * D;

    int kLo, kHi;
    att_seq_range(R0, min(R0 + ATT_ROWS, BT) - 1, T, kLo, kHi);
    const int w0 = R0 + warp * 16;
    const bool wActive = w0 < BT;
    int wLo = 0, wHi = 0;
    if (wActive) att_seq_range(w0, min(w0 + 15, BT - 1), T, wLo, wHi);

    int row[2], sLo[2], sHi[2], prow[2];
    float rlse[2], rdelta[2];
    unsigned long long rowBase[2];
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        row[ri] = w0 + g + ri * 8;
        const bool ok = row[ri] < BT;
        const int b = ok ? row[ri] / T : 0, i = ok ? row[ri] - b * T : 0;
        sLo[ri] = ok ? b * T : 0;
        sHi[ri] = ok ? b * T + T : 0;
        prow[ri] = (ok && alibi) ? pos[posOff + row[ri]] : 0;
        rowBase[ri] = ((unsigned long long) (b * H + h) * T + i) * (unsigned long long) T;
        const long long at = ((long long) b * H + h) * T + i;
        rlse[ri] = ok ? lse[lseOff + at] * ATT_LOG2E : 0.0f;
        rdelta[ri] = ok ? delta[deltaOff + at] : 0.0f;
    }
    unsigned int qf[KC][4], gf[KC][4];
    att_rows_to_a<D>(qf, row[0] < BT ? base + (long long) row[0] * G.rowStride : 0,
                     row[1] < BT ? base + (long long) row[1] * G.rowStride : 0, t);
    att_rows_to_a<D>(gf, row[0] < BT ? dout + doutOff + ((long long) row[0] * H + h) * D : 0,
                     row[1] < BT ? dout + doutOff + ((long long) row[1] * H + h) * D : 0, t);

    float dq[DN][4];
#pragma unroll
    for (int n = 0; n < DN; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) dq[n][e] = 0.0f;
    float dsSum[2] = {0.0f, 0.0f}, dsDist[2] = {0.0f, 0.0f}, pSum[2] = {0.0f, 0.0f}, pDist[2] = {0.0f, 0.0f};

    const int tiles = (kHi - kLo + BC - 1) / BC;
    auto load = [&](int stage, int j0) {
        const unsigned short *k = base + (long long) j0 * G.rowStride + H * D;
        att_load_rows<D, BC, 128>(Ks[stage], k, G.rowStride, kHi - j0, tid);
        att_load_rows<D, BC, 128>(Vs[stage], k + H * D, G.rowStride, kHi - j0, tid);
        if (tid < BC) {
            const int j = j0 + tid;
            kpos[stage][tid] = (alibi && j < kHi) ? pos[posOff + j] : 0;
            kpad[stage][tid] = (keyPadding && j < kHi) ? pad[padOff + j] : 0;
        }
    };
    load(0, kLo);
    cp_async_commit();
    for (int it = 0; it < tiles; it++) {
        cp_async_wait<0>();
        __syncthreads();
        if (it + 1 < tiles) load((it + 1) & 1, kLo + (it + 1) * BC);
        cp_async_commit();
        const int st = it & 1, j0 = kLo + it * BC;
        if (!wActive || j0 >= wHi || j0 + BC <= wLo) continue;

        bool act[NP];
        float s[NC][4], dp[NC][4];
#pragma unroll
        for (int np = 0; np < NP; np++) {
            act[np] = j0 + 16 * np < wHi && j0 + 16 * np + 16 > wLo;
#pragma unroll
            for (int e = 0; e < 4; e++) s[2 * np][e] = s[2 * np + 1][e] = dp[2 * np][e] = dp[2 * np + 1][e] = 0.0f;
            if (!act[np]) continue;
#pragma unroll
            for (int kc = 0; kc < KC; kc++) {
                unsigned int kb[4], vb[4];
                ldmatrix_x4(kb, Ks[st] + frag_b_nmajor<D>(lane, 16 * np, 16 * kc));
                mma_bf16(s[2 * np], qf[kc], kb[0], kb[1]);
                mma_bf16(s[2 * np + 1], qf[kc], kb[2], kb[3]);
                ldmatrix_x4(vb, Vs[st] + frag_b_nmajor<D>(lane, 16 * np, 16 * kc));
                mma_bf16(dp[2 * np], gf[kc], vb[0], vb[1]);
                mma_bf16(dp[2 * np + 1], gf[kc], vb[2], vb[3]);
            }
        }
        /* p = exp(s − lse); dS = p·(z·dP − delta); s is reused for dS·scale */
#pragma unroll
        for (int nc = 0; nc < NC; nc++) {
            float z[4] = {1.0f, 1.0f, 1.0f, 1.0f};
            if (dropThreshold > 0) {
#pragma unroll
                for (int ri = 0; ri < 2; ri++) {
                    const int j = j0 + 8 * nc + 2 * t;
                    z[ri * 2] = z[ri * 2 + 1] = 0.0f;
                    if (act[nc / 2] && j + 1 >= sLo[ri] && j < sHi[ri]) {
                        att_keep2((unsigned long long) seed, (unsigned long long) offset,
                                  rowBase[ri] + (unsigned long long) (j - sLo[ri]), dropThreshold, dropScale,
                                  z[ri * 2], z[ri * 2 + 1]);
                    }
                }
            }
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int ri = e >> 1, jl = 8 * nc + 2 * t + (e & 1), j = j0 + jl;
                const bool valid = act[nc / 2] && j >= sLo[ri] && j < sHi[ri] && kpad[st][jl] == 0;
                const float dist = fabsf((float) (prow[ri] - kpos[st][jl]));
                const float p = valid ? exp2f(s[nc][e] * G.scaleLog2 - G.coefLog2 * dist - rlse[ri]) : 0.0f;
                const float ds = p * (z[e] * dp[nc][e] - rdelta[ri]);
                if (alibi) {
                    dsSum[ri] += ds;
                    dsDist[ri] += ds * dist;
                    pSum[ri] += p;
                    pDist[ri] += p * dist;
                }
                s[nc][e] = ds * scale;
            }
        }
        /* dQ += dS·K */
#pragma unroll
        for (int np = 0; np < NP; np++) {
            if (!act[np]) continue;
            unsigned int da[4];
            c_to_a(da, s[2 * np], s[2 * np + 1]);
#pragma unroll
            for (int dp2 = 0; dp2 < D / 16; dp2++) {
                unsigned int kb[4];
                ldmatrix_x4_trans(kb, Ks[st] + frag_b_kmajor<D>(lane, 16 * dp2, 16 * np));
                mma_bf16(dq[2 * dp2], da, kb[0], kb[1]);
                mma_bf16(dq[2 * dp2 + 1], da, kb[2], kb[3]);
            }
        }
    }
    if (!wActive) return;
    att_store_rows<D>(dq, row[0] < BT ? dqkv + dqkvOff + (long long) row[0] * G.rowStride + h * D : 0,
                      row[1] < BT ? dqkv + dqkvOff + (long long) row[1] * G.rowStride + h * D : 0, 1.0f, 1.0f, t, accumulate);
    if (alibi) {
#pragma unroll
        for (int ri = 0; ri < 2; ri++) {
            const float a = quad_sum(dsSum[ri]), bsum = quad_sum(dsDist[ri]), c = quad_sum(pSum[ri]), d = quad_sum(pDist[ri]);
            if (t == 0 && row[ri] < BT) {
                const int b = row[ri] / T, i = row[ri] - b * T;
                delta[deltaOff + ((long long) b * H + h) * T + i] = c > 0.0f ? bsum - a * (d / c) : 0.0f;
            }
        }
    }
}

/* ================================================================ backward: dK, dV */

template <int D, int WARPS, int BQ>
static __device__ __forceinline__ void att_backward_kv(
        const unsigned short *qkv, int qkvOff, const float *slopes, int slopesOff, const float *ascale, int ascaleOff,
        const int *pos, int posOff, const int *pad, int padOff, const unsigned short *dout, int doutOff,
        const float *lse, int lseOff, const float *delta, int deltaOff, unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        long long dropThreshold, float dropScale, long long seed, long long offset, int accumulate) {
    const int KEYS = 16 * WARPS, THREADS = 32 * WARPS;
    const int KC = D / 16, NQ = BQ / 8, NQP = BQ / 16, DN = D / 8;
    const bool KV_REGS = D <= 64; /* K and V fragments in registers; at D = 128 reloaded per tile */
    __shared__ __align__(128) unsigned short Ks[KEYS * D];
    __shared__ __align__(128) unsigned short Vs[KEYS * D];
    __shared__ __align__(128) unsigned short Qs[2][BQ * D];
    __shared__ __align__(128) unsigned short Gs[2][BQ * D];
    __shared__ float qlse[2][BQ], qdel[2][BQ];
    __shared__ int qpos[2][BQ];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int h = blockIdx.y;
    const int C0 = blockIdx.x * KEYS;
    const int BT = B * T;
    if (Dh != D || ((qkvOff | doutOff | dqkvOff) & 7) != 0) {
        const int r = C0 + tid;
        if (tid < KEYS && r < BT)
            for (int c = 0; c < 2 * Dh; c++) dqkv[dqkvOff + (long long) r * 3 * H * Dh + (1 + c / Dh) * H * Dh + h * Dh + c % Dh] = 0x7fc0;
        return;
    }
    const AttGeom G = att_geom(B, T, H, D, scale, alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const unsigned short *base = qkv + qkvOff + h * D;

    int qLo, qHi;
    att_seq_range(C0, min(C0 + KEYS, BT) - 1, T, qLo, qHi);
    const int w0 = C0 + warp * 16;
    const bool wActive = w0 < BT;
    int wLo = 0, wHi = 0;
    if (wActive) att_seq_range(w0, min(w0 + 15, BT - 1), T, wLo, wHi);

    /* this thread's two keys (rows of Sᵀ): w0 + g and w0 + g + 8 */
    int key[2], sLo[2], sHi[2], kposv[2];
    unsigned long long eBase[2];
#pragma unroll
    for (int ri = 0; ri < 2; ri++) {
        key[ri] = w0 + g + ri * 8;
        const bool inRange = key[ri] < BT;
        const bool ok = inRange && !(keyPadding && pad[padOff + key[ri]] != 0);
        const int b = inRange ? key[ri] / T : 0, jj = inRange ? key[ri] - b * T : 0;
        sLo[ri] = ok ? b * T : 0;
        sHi[ri] = ok ? b * T + T : 0; /* padded or past the end: no query */
        kposv[ri] = (inRange && alibi) ? pos[posOff + key[ri]] : 0;
        eBase[ri] = (unsigned long long) (b * H + h) * T * (unsigned long long) T + (unsigned long long) jj;
    }

    /* the block's keys and values, once; then query tiles through a two-stage ring */
    att_load_rows<D, KEYS, THREADS>(Ks, base + (long long) C0 * G.rowStride + H * D, G.rowStride, BT - C0, tid);
    att_load_rows<D, KEYS, THREADS>(Vs, base + (long long) C0 * G.rowStride + 2 * H * D, G.rowStride, BT - C0, tid);
    const int tiles = (qHi - qLo + BQ - 1) / BQ;
    auto load = [&](int stage, int q0) {
        att_load_rows<D, BQ, THREADS>(Qs[stage], base + (long long) q0 * G.rowStride, G.rowStride, qHi - q0, tid);
        att_load_rows<D, BQ, THREADS>(Gs[stage], dout + doutOff + ((long long) q0 * H + h) * D, (long long) H * D, qHi - q0, tid);
        for (int i = tid; i < BQ; i += THREADS) {
            const int q = q0 + i;
            const bool ok = q < qHi;
            const int b = ok ? q / T : 0;
            const long long at = ((long long) b * H + h) * T + (q - b * T);
            qlse[stage][i] = ok ? lse[lseOff + at] * ATT_LOG2E : 0.0f;
            qdel[stage][i] = ok ? delta[deltaOff + at] : 0.0f;
            qpos[stage][i] = (ok && alibi) ? pos[posOff + q] : 0;
        }
    };
    load(0, qLo);
    cp_async_commit();

    unsigned int kf[KV_REGS ? KC : 1][4], vf[KV_REGS ? KC : 1][4];
    float dk[DN][4], dv[DN][4];
#pragma unroll
    for (int n = 0; n < DN; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) dk[n][e] = dv[n][e] = 0.0f;

    for (int it = 0; it < tiles; it++) {
        cp_async_wait<0>();
        __syncthreads();
        if (it + 1 < tiles) load((it + 1) & 1, qLo + (it + 1) * BQ);
        cp_async_commit();
        if (KV_REGS && it == 0) {
#pragma unroll
            for (int kc = 0; kc < (KV_REGS ? KC : 1); kc++) {
                ldmatrix_x4(kf[kc], Ks + frag_a_rowmajor<D>(lane, warp * 16, 16 * kc));
                ldmatrix_x4(vf[kc], Vs + frag_a_rowmajor<D>(lane, warp * 16, 16 * kc));
            }
        }
        const int st = it & 1, q0 = qLo + it * BQ;
        if (!wActive || q0 >= wHi || q0 + BQ <= wLo) continue;

        bool act[NQP];
        float s[NQ][4], dp[NQ][4];
#pragma unroll
        for (int qp = 0; qp < NQP; qp++) {
            act[qp] = q0 + 16 * qp < wHi && q0 + 16 * qp + 16 > wLo;
#pragma unroll
            for (int e = 0; e < 4; e++) s[2 * qp][e] = s[2 * qp + 1][e] = dp[2 * qp][e] = dp[2 * qp + 1][e] = 0.0f;
        }
        /* Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ (rows = this warp's 16 keys, columns = queries) */
#pragma unroll
        for (int kc = 0; kc < KC; kc++) {
            unsigned int ka[4], va[4];
            if (KV_REGS) {
#pragma unroll
                for (int r = 0; r < 4; r++) { ka[r] = kf[KV_REGS ? kc : 0][r]; va[r] = vf[KV_REGS ? kc : 0][r]; }
            } else {
                ldmatrix_x4(ka, Ks + frag_a_rowmajor<D>(lane, warp * 16, 16 * kc));
                ldmatrix_x4(va, Vs + frag_a_rowmajor<D>(lane, warp * 16, 16 * kc));
            }
#pragma unroll
            for (int qp = 0; qp < NQP; qp++) {
                if (!act[qp]) continue;
                unsigned int qb[4], gb[4];
                ldmatrix_x4(qb, Qs[st] + frag_b_nmajor<D>(lane, 16 * qp, 16 * kc));
                mma_bf16(s[2 * qp], ka, qb[0], qb[1]);
                mma_bf16(s[2 * qp + 1], ka, qb[2], qb[3]);
                ldmatrix_x4(gb, Gs[st] + frag_b_nmajor<D>(lane, 16 * qp, 16 * kc));
                mma_bf16(dp[2 * qp], va, gb[0], gb[1]);
                mma_bf16(dp[2 * qp + 1], va, gb[2], gb[3]);
            }
        }
        /* pᵀ·z into s, dSᵀ·scale into dp */
#pragma unroll
        for (int nc = 0; nc < NQ; nc++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int ri = e >> 1, ql = 8 * nc + 2 * t + (e & 1), q = q0 + ql;
                const bool valid = act[nc / 2] && q >= sLo[ri] && q < sHi[ri];
                const float dist = fabsf((float) (qpos[st][ql] - kposv[ri]));
                const float p = valid ? exp2f(s[nc][e] * G.scaleLog2 - G.coefLog2 * dist - qlse[st][ql]) : 0.0f;
                float z = 1.0f;
                if (dropThreshold > 0 && valid) {
                    const unsigned long long el = eBase[ri] + (unsigned long long) (q - sLo[ri]) * (unsigned long long) T;
                    z = (long long) att_word((unsigned long long) seed, (unsigned long long) offset, el) >= dropThreshold ? dropScale : 0.0f;
                }
                dp[nc][e] = p * (z * dp[nc][e] - qdel[st][ql]) * scale;
                s[nc][e] = p * z;
            }
        /* dV += (P·z)ᵀ·dO, dK += dSᵀ·Q */
#pragma unroll
        for (int qp = 0; qp < NQP; qp++) {
            if (!act[qp]) continue;
            unsigned int pa[4], da[4];
            c_to_a(pa, s[2 * qp], s[2 * qp + 1]);
            c_to_a(da, dp[2 * qp], dp[2 * qp + 1]);
#pragma unroll
            for (int d2 = 0; d2 < D / 16; d2++) {
                unsigned int gb[4], qb[4];
                ldmatrix_x4_trans(gb, Gs[st] + frag_b_kmajor<D>(lane, 16 * d2, 16 * qp));
                mma_bf16(dv[2 * d2], pa, gb[0], gb[1]);
                mma_bf16(dv[2 * d2 + 1], pa, gb[2], gb[3]);
                ldmatrix_x4_trans(qb, Qs[st] + frag_b_kmajor<D>(lane, 16 * d2, 16 * qp));
                mma_bf16(dk[2 * d2], da, qb[0], qb[1]);
                mma_bf16(dk[2 * d2 + 1], da, qb[2], qb[3]);
            }
        }
    }
    if (!wActive) return;
    unsigned short *lo = key[0] < BT ? dqkv + dqkvOff + (long long) key[0] * G.rowStride + h * D : 0;
    unsigned short *hi = key[1] < BT ? dqkv + dqkvOff + (long long) key[1] * G.rowStride + h * D : 0;
    att_store_rows<D>(dk, lo ? lo + H * D : 0, hi ? hi + H * D : 0, 1.0f, 1.0f, t, accumulate);
    att_store_rows<D>(dv, lo ? lo + 2 * H * D : 0, hi ? hi + 2 * H * D : 0, 1.0f, 1.0f, t, accumulate);
}

/* ================================================================ delta = rowsum(dO ⊙ O) */

/* delta[b,h,t] = Σ_d dout·out over one (b, t, h) row of Dh bf16: Dh/8 lanes per row, 16-byte loads,
   a shuffle tree. Dh must be a multiple of 8 with Dh/8 a power of two ≤ 32; outOff, doutOff
   multiples of 8 (else NaN). Grid-stride over rows. */
KERNEL void attention_tc_delta(GLOBAL const unsigned short *out, int outOff, GLOBAL const unsigned short *dout, int doutOff,
                               GLOBAL float *delta, int deltaOff, int B, int T, int H, int Dh) {
    const int lanes = Dh / 8;
    const long long rows = (long long) B * T * H;
    const bool ok = Dh % 8 == 0 && lanes <= 32 && (lanes & (lanes - 1)) == 0 && ((outOff | doutOff) & 7) == 0;
    const long long threads = (long long) gridDim.x * blockDim.x;
    for (long long n = (long long) blockIdx.x * blockDim.x + threadIdx.x; n - threadIdx.x % 32 < rows * (ok ? lanes : 1);
         n += threads) {
        /* a whole warp stays in the loop while any of its lanes has a row, so the shuffles are uniform */
        const long long row = ok ? n / lanes : n;
        const int c = ok ? (int) (n % lanes) : 0;
        float sum = 0.0f;
        if (ok && row < rows) {
            float a[8], b[8];
            load8(out + outOff + row * Dh + c * 8, a);
            load8(dout + doutOff + row * Dh + c * 8, b);
#pragma unroll
            for (int i = 0; i < 8; i++) sum = fmaf(a[i], b[i], sum);
        }
        for (int w = 1; w < 32; w <<= 1) {
            const float other = __shfl_xor_sync(0xffffffffu, sum, w);
            if (ok && w < lanes) sum += other;
        }
        if (row < rows && c == 0) {
            const long long bt = row / H, h = row % H, b = bt / T, tt = bt % T;
            delta[deltaOff + (b * H + h) * T + tt] = ok ? sum : __int_as_float(0x7fc00000);
        }
    }
}

/* ================================================================ entry points
 * Tiles per head size (static shared memory <= 48 KB): forward and backward_q take 64 query rows
 * and key tiles of BC = 64 (d32, d64) or 32 (d128) rows, two stages; backward_kv takes 64 keys
 * (d32, d64; 4 warps) or 32 (d128; 2 warps) and query tiles of 64, 32, 16 rows, two stages. */

KERNEL void attention_tc_forward_d32(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL unsigned short *out, int outOff, GLOBAL float *lse, int lseOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset) {
    att_forward<32, 64>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, out, outOff,
                       lse, lseOff, B, T, H, Dh, scale, alibi, keyPadding, dropThreshold, dropScale, seed, offset);
}

KERNEL void attention_tc_forward_d64(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL unsigned short *out, int outOff, GLOBAL float *lse, int lseOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset) {
    att_forward<64, 64>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, out, outOff,
                       lse, lseOff, B, T, H, Dh, scale, alibi, keyPadding, dropThreshold, dropScale, seed, offset);
}

KERNEL void attention_tc_forward_d128(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL unsigned short *out, int outOff, GLOBAL float *lse, int lseOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset) {
    att_forward<128, 32>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, out, outOff,
                       lse, lseOff, B, T, H, Dh, scale, alibi, keyPadding, dropThreshold, dropScale, seed, offset);
}

KERNEL void attention_tc_backward_kv_d32(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const unsigned short *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL const float *delta, int deltaOff, GLOBAL unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    att_backward_kv<32, 4, 64>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, dout, doutOff,
                               lse, lseOff, delta, deltaOff, dqkv, dqkvOff, B, T, H, Dh, scale, alibi, keyPadding,
                               dropThreshold, dropScale, seed, offset, accumulate);
}

KERNEL void attention_tc_backward_kv_d64(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const unsigned short *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL const float *delta, int deltaOff, GLOBAL unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    att_backward_kv<64, 4, 32>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, dout, doutOff,
                               lse, lseOff, delta, deltaOff, dqkv, dqkvOff, B, T, H, Dh, scale, alibi, keyPadding,
                               dropThreshold, dropScale, seed, offset, accumulate);
}

KERNEL void attention_tc_backward_kv_d128(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const unsigned short *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL const float *delta, int deltaOff, GLOBAL unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    att_backward_kv<128, 2, 16>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, dout, doutOff,
                               lse, lseOff, delta, deltaOff, dqkv, dqkvOff, B, T, H, Dh, scale, alibi, keyPadding,
                               dropThreshold, dropScale, seed, offset, accumulate);
}

KERNEL void attention_tc_backward_q_d32(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const unsigned short *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL float *delta, int deltaOff, GLOBAL unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    att_backward_q<32, 64>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, dout, doutOff,
                          lse, lseOff, delta, deltaOff, dqkv, dqkvOff, B, T, H, Dh, scale, alibi, keyPadding,
                          dropThreshold, dropScale, seed, offset, accumulate);
}

KERNEL void attention_tc_backward_q_d64(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const unsigned short *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL float *delta, int deltaOff, GLOBAL unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    att_backward_q<64, 64>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, dout, doutOff,
                          lse, lseOff, delta, deltaOff, dqkv, dqkvOff, B, T, H, Dh, scale, alibi, keyPadding,
                          dropThreshold, dropScale, seed, offset, accumulate);
}

KERNEL void attention_tc_backward_q_d128(
        GLOBAL const unsigned short *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const unsigned short *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL float *delta, int deltaOff, GLOBAL unsigned short *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    att_backward_q<128, 32>(qkv, qkvOff, slopes, slopesOff, ascale, ascaleOff, pos, posOff, pad, padOff, dout, doutOff,
                          lse, lseOff, delta, deltaOff, dqkv, dqkvOff, B, T, H, Dh, scale, alibi, keyPadding,
                          dropThreshold, dropScale, seed, offset, accumulate);
}
