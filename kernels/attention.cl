/*
 * Fused multi-head attention, flash-style (see AttentionDesc for layouts and semantics):
 * qkv [B,T,3,H,Dh], out and dout [B,T,H,Dh], lse and delta [B,H,T]. qkv, out, dout and dqkv are
 * ACT (d2v.h: bf16 in a bf16 model); scores, the softmax statistics (lse), delta and every
 * accumulator are float, and so are the tiles in local memory (values widen as they are loaded).
 *
 * One work-item owns one query row (forward, dQ) or one key row (dK/dV) and keeps its vectors
 * in private arrays of ATT_DMAX floats; the other side streams through local memory in tiles of
 * ATT_TILE rows, so the T×T score matrix never exists. The online softmax keeps a running max m
 * and sum l; dropout multiplies the normalised probabilities, which only scales the terms added
 * to the accumulator, so l (and lse) stay the un-dropped ones.
 *
 * Backward recomputes p = exp(s − lse) and uses dS = p·(z·dO·v − delta), delta = rowsum(dO ⊙ O),
 * z the dropout factor. dK/dV and dQ are two kernels, every output element is written by one
 * work-item: no atomics, the result does not depend on scheduling.
 */

#define ATT_TILE 32
#define ATT_DMAX 128
#define ATT_NEG_BIG (-3.0e38f)

/* The dropout word of element e: word e mod 4 of block offset + e/4. */
DEVICE_FN U32 att_word(U64 seed, U64 offset, U64 e) {
    U32 w[4];
    d2v_philox(offset + e / 4, seed, w);
    return w[(int) (e % 4)];
}

/* The bias coefficient of head h: slope·max(scale, 0) (0 without ALiBi). */
DEVICE_FN float att_alibi_coef(int alibi, GLOBAL const float *slopes, int slopesOff,
                               GLOBAL const float *ascale, int ascaleOff, int h) {
    if (!alibi) return 0.0f;
    return slopes[slopesOff + h] * FMAX(ascale[ascaleOff + h], 0.0f);
}

/*
 * Forward. global (ceil(T/ATT_TILE)·B·H·ATT_TILE), local (ATT_TILE): group g is row tile
 * g mod tiles of (b,h) = g / tiles (1-D, so a CUDA grid never meets its 65535 limit in y).
 * dropThreshold = floor(p·2³²) (0: no dropout), dropScale = 1/(1 − p).
 */
KERNEL void attention_forward(
        GLOBAL const ACT *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL ACT *out, int outOff, GLOBAL float *lse, int lseOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset) {
    LOCAL_ARRAY(float, kt, ATT_TILE * ATT_DMAX);
    LOCAL_ARRAY(float, vt, ATT_TILE * ATT_DMAX);
    LOCAL_ARRAY(int, kpos, ATT_TILE);
    LOCAL_ARRAY(int, kpad, ATT_TILE);

    const int lid = LID(0);
    const int tiles = (T + ATT_TILE - 1) / ATT_TILE;
    const int i = GROUP_ID(0) % tiles * ATT_TILE + lid;
    const int bh = GROUP_ID(0) / tiles;
    const int b = bh / H, h = bh % H;
    const int rowStride = 3 * H * Dh;
    const bool active = i < T;
    const float coef = att_alibi_coef(alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const int posI = (alibi && active) ? pos[posOff + b * T + i] : 0;

    float q[ATT_DMAX];
    float acc[ATT_DMAX];
    for (int d = 0; d < Dh; d++) {
        q[d] = active ? ACT_LD(qkv[qkvOff + (b * T + i) * rowStride + h * Dh + d]) : 0.0f;
        acc[d] = 0.0f;
    }
    float m = ATT_NEG_BIG, l = 0.0f;
    const U64 rowBase = ((U64) bh * (U64) T + (U64) (active ? i : 0)) * (U64) T;
    U64 cachedBlock = ~(U64) 0;
    U32 words[4] = {0u, 0u, 0u, 0u};

    for (int j0 = 0; j0 < T; j0 += ATT_TILE) {
        const int n = min(ATT_TILE, T - j0);
        BARRIER();
        for (int at = lid; at < n * Dh; at += ATT_TILE) { /* the whole group reads rows in order */
            const int r = at / Dh, d = at % Dh;
            const int base = qkvOff + (b * T + j0 + r) * rowStride + h * Dh + d;
            kt[r * ATT_DMAX + d] = ACT_LD(qkv[base + H * Dh]);
            vt[r * ATT_DMAX + d] = ACT_LD(qkv[base + 2 * H * Dh]);
        }
        if (lid < n) {
            kpos[lid] = alibi ? pos[posOff + b * T + j0 + lid] : 0;
            kpad[lid] = keyPadding ? pad[padOff + b * T + j0 + lid] : 0;
        }
        BARRIER();
        if (!active) continue;

        float s[ATT_TILE];
        float tmax = ATT_NEG_BIG;
        bool any = false;
        for (int r = 0; r < n; r++) {
            if (kpad[r] != 0) continue;
            float dot = 0.0f;
            for (int d = 0; d < Dh; d++) dot += q[d] * kt[r * ATT_DMAX + d];
            s[r] = scale * dot - coef * FABS((float) (posI - kpos[r]));
            tmax = FMAX(tmax, s[r]);
            any = true;
        }
        if (!any) continue;
        const float mNew = FMAX(m, tmax);
        const float corr = EXP(m - mNew);
        l *= corr;
        for (int d = 0; d < Dh; d++) acc[d] *= corr;
        for (int r = 0; r < n; r++) {
            if (kpad[r] != 0) continue;
            const float p = EXP(s[r] - mNew);
            l += p;
            float wgt = p;
            if (dropThreshold > 0) {
                const U64 e = rowBase + (U64) (j0 + r);
                const U64 blk = (U64) offset + e / 4;
                if (blk != cachedBlock) {
                    d2v_philox(blk, (U64) seed, words);
                    cachedBlock = blk;
                }
                wgt = ((I64) words[(int) (e % 4)] >= dropThreshold) ? p * dropScale : 0.0f;
            }
            if (wgt != 0.0f) {
                for (int d = 0; d < Dh; d++) acc[d] += wgt * vt[r * ATT_DMAX + d];
            }
        }
        m = mNew;
    }
    if (!active) return;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = 0; d < Dh; d++) out[outOff + ((b * T + i) * H + h) * Dh + d] = ACT_ST(acc[d] * inv);
    lse[lseOff + bh * T + i] = l > 0.0f ? m + LOG(l) : -D2V_INF; /* every key padded: out 0 */
}

/* delta[b,h,i] = Σ_d dout·out. global (roundup(B·H·T, 64)), local (64). */
KERNEL void attention_delta(GLOBAL const ACT *out, int outOff, GLOBAL const ACT *dout, int doutOff,
                            GLOBAL float *delta, int deltaOff, int B, int T, int H, int Dh) {
    const int row = GID(0);
    if (row >= B * H * T) return;
    const int i = row % T, bh = row / T;
    const int b = bh / H, h = bh % H;
    const int base = ((b * T + i) * H + h) * Dh;
    float sum = 0.0f;
    for (int d = 0; d < Dh; d++) sum += ACT_LD(dout[doutOff + base + d]) * ACT_LD(out[outOff + base + d]);
    delta[deltaOff + row] = sum;
}

/*
 * dK and dV: one work-item per key, query tiles in local memory.
 * global (ceil(T/ATT_TILE)·B·H·ATT_TILE), local (ATT_TILE), groups as in attention_forward.
 */
KERNEL void attention_backward_kv(
        GLOBAL const ACT *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const ACT *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL const float *delta, int deltaOff, GLOBAL ACT *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    LOCAL_ARRAY(float, qt, ATT_TILE * ATT_DMAX);
    LOCAL_ARRAY(float, gt, ATT_TILE * ATT_DMAX);
    LOCAL_ARRAY(float, tlse, ATT_TILE);
    LOCAL_ARRAY(float, tdelta, ATT_TILE);
    LOCAL_ARRAY(int, qpos, ATT_TILE);

    const int lid = LID(0);
    const int tiles = (T + ATT_TILE - 1) / ATT_TILE;
    const int j = GROUP_ID(0) % tiles * ATT_TILE + lid;
    const int bh = GROUP_ID(0) / tiles;
    const int b = bh / H, h = bh % H;
    const int rowStride = 3 * H * Dh;
    const bool inRange = j < T;
    const bool active = inRange && !(keyPadding && pad[padOff + b * T + j] != 0);
    const float coef = att_alibi_coef(alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const int posJ = (alibi && inRange) ? pos[posOff + b * T + j] : 0;
    const int kBase = qkvOff + (b * T + (inRange ? j : 0)) * rowStride + h * Dh;

    float k[ATT_DMAX], v[ATT_DMAX], dk[ATT_DMAX], dv[ATT_DMAX];
    for (int d = 0; d < Dh; d++) {
        k[d] = active ? ACT_LD(qkv[kBase + H * Dh + d]) : 0.0f;
        v[d] = active ? ACT_LD(qkv[kBase + 2 * H * Dh + d]) : 0.0f;
        dk[d] = 0.0f;
        dv[d] = 0.0f;
    }

    for (int i0 = 0; i0 < T; i0 += ATT_TILE) {
        const int n = min(ATT_TILE, T - i0);
        BARRIER();
        for (int at = lid; at < n * Dh; at += ATT_TILE) {
            const int r = at / Dh, d = at % Dh;
            qt[r * ATT_DMAX + d] = ACT_LD(qkv[qkvOff + (b * T + i0 + r) * rowStride + h * Dh + d]);
            gt[r * ATT_DMAX + d] = ACT_LD(dout[doutOff + ((b * T + i0 + r) * H + h) * Dh + d]);
        }
        if (lid < n) {
            tlse[lid] = lse[lseOff + bh * T + i0 + lid];
            tdelta[lid] = delta[deltaOff + bh * T + i0 + lid];
            qpos[lid] = alibi ? pos[posOff + b * T + i0 + lid] : 0;
        }
        BARRIER();
        if (!active) continue;
        for (int r = 0; r < n; r++) {
            float qk = 0.0f, gv = 0.0f;
            for (int d = 0; d < Dh; d++) {
                qk += qt[r * ATT_DMAX + d] * k[d];
                gv += gt[r * ATT_DMAX + d] * v[d];
            }
            const float sc = scale * qk - coef * FABS((float) (qpos[r] - posJ));
            const float p = EXP(sc - tlse[r]);
            float z = 1.0f;
            if (dropThreshold > 0) {
                const U64 e = ((U64) bh * (U64) T + (U64) (i0 + r)) * (U64) T + (U64) j;
                z = ((I64) att_word((U64) seed, (U64) offset, e) >= dropThreshold) ? dropScale : 0.0f;
            }
            const float pz = p * z;
            const float ds = p * (z * gv - tdelta[r]) * scale;
            for (int d = 0; d < Dh; d++) {
                dv[d] += pz * gt[r * ATT_DMAX + d];
                dk[d] += ds * qt[r * ATT_DMAX + d];
            }
        }
    }
    if (!inRange) return;
    const int dBase = dqkvOff + (b * T + j) * rowStride + h * Dh;
    for (int d = 0; d < Dh; d++) {
        if (accumulate) {
            dqkv[dBase + H * Dh + d] = ACT_ST(ACT_LD(dqkv[dBase + H * Dh + d]) + dk[d]);
            dqkv[dBase + 2 * H * Dh + d] = ACT_ST(ACT_LD(dqkv[dBase + 2 * H * Dh + d]) + dv[d]);
        } else {
            dqkv[dBase + H * Dh + d] = ACT_ST(dk[d]);
            dqkv[dBase + 2 * H * Dh + d] = ACT_ST(dv[d]);
        }
    }
}

/*
 * dQ: one work-item per query, key tiles in local memory. With ALiBi, the row's share of
 * ∂L/∂alibiScale (before the −slope factor), Σ_j dS·dist_ij, replaces delta[b,h,i] (delta is
 * scratch and only this work-item reads that element here). Exactly, Σ_j dS_ij = 0, so the share
 * equals Σ_j dS·(dist − c) for any c; in F32 the rounding of delta (from out, not from these p)
 * shifts every dS of the row alike, and distances reach thousands, so the share is taken with
 * c = the p-weighted mean distance, which cancels that shift: S1 − S0·Σp·dist/Σp.
 * global (ceil(T/ATT_TILE)·B·H·ATT_TILE), local (ATT_TILE), groups as in attention_forward.
 */
KERNEL void attention_backward_q(
        GLOBAL const ACT *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const ACT *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL float *delta, int deltaOff, GLOBAL ACT *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    LOCAL_ARRAY(float, kt, ATT_TILE * ATT_DMAX);
    LOCAL_ARRAY(float, vt, ATT_TILE * ATT_DMAX);
    LOCAL_ARRAY(int, kpos, ATT_TILE);
    LOCAL_ARRAY(int, kpad, ATT_TILE);

    const int lid = LID(0);
    const int tiles = (T + ATT_TILE - 1) / ATT_TILE;
    const int i = GROUP_ID(0) % tiles * ATT_TILE + lid;
    const int bh = GROUP_ID(0) / tiles;
    const int b = bh / H, h = bh % H;
    const int rowStride = 3 * H * Dh;
    const bool active = i < T;
    const float coef = att_alibi_coef(alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const int posI = (alibi && active) ? pos[posOff + b * T + i] : 0;
    const int qBase = qkvOff + (b * T + (active ? i : 0)) * rowStride + h * Dh;
    const int gBase = doutOff + ((b * T + (active ? i : 0)) * H + h) * Dh;

    float q[ATT_DMAX], g[ATT_DMAX], dq[ATT_DMAX];
    for (int d = 0; d < Dh; d++) {
        q[d] = active ? ACT_LD(qkv[qBase + d]) : 0.0f;
        g[d] = active ? ACT_LD(dout[gBase + d]) : 0.0f;
        dq[d] = 0.0f;
    }
    const float rowLse = active ? lse[lseOff + bh * T + i] : 0.0f;
    const float rowDelta = active ? delta[deltaOff + bh * T + i] : 0.0f;
    float dsSum = 0.0f, dsDist = 0.0f, pSum = 0.0f, pDist = 0.0f;
    const U64 rowBase = ((U64) bh * (U64) T + (U64) (active ? i : 0)) * (U64) T;
    U64 cachedBlock = ~(U64) 0;
    U32 words[4] = {0u, 0u, 0u, 0u};

    for (int j0 = 0; j0 < T; j0 += ATT_TILE) {
        const int n = min(ATT_TILE, T - j0);
        BARRIER();
        for (int at = lid; at < n * Dh; at += ATT_TILE) { /* the whole group reads rows in order */
            const int r = at / Dh, d = at % Dh;
            const int base = qkvOff + (b * T + j0 + r) * rowStride + h * Dh + d;
            kt[r * ATT_DMAX + d] = ACT_LD(qkv[base + H * Dh]);
            vt[r * ATT_DMAX + d] = ACT_LD(qkv[base + 2 * H * Dh]);
        }
        if (lid < n) {
            kpos[lid] = alibi ? pos[posOff + b * T + j0 + lid] : 0;
            kpad[lid] = keyPadding ? pad[padOff + b * T + j0 + lid] : 0;
        }
        BARRIER();
        if (!active) continue;
        for (int r = 0; r < n; r++) {
            if (kpad[r] != 0) continue;
            float qk = 0.0f, gv = 0.0f;
            for (int d = 0; d < Dh; d++) {
                qk += q[d] * kt[r * ATT_DMAX + d];
                gv += g[d] * vt[r * ATT_DMAX + d];
            }
            const float dist = FABS((float) (posI - kpos[r]));
            const float p = EXP(scale * qk - coef * dist - rowLse);
            float z = 1.0f;
            if (dropThreshold > 0) {
                const U64 e = rowBase + (U64) (j0 + r);
                const U64 blk = (U64) offset + e / 4;
                if (blk != cachedBlock) {
                    d2v_philox(blk, (U64) seed, words);
                    cachedBlock = blk;
                }
                z = ((I64) words[(int) (e % 4)] >= dropThreshold) ? dropScale : 0.0f;
            }
            const float ds = p * (z * gv - rowDelta);
            dsSum += ds;
            dsDist += ds * dist;
            pSum += p;
            pDist += p * dist;
            const float dss = ds * scale;
            for (int d = 0; d < Dh; d++) dq[d] += dss * kt[r * ATT_DMAX + d];
        }
    }
    if (!active) return;
    for (int d = 0; d < Dh; d++) {
        const int at = dqkvOff + (b * T + i) * rowStride + h * Dh + d;
        dqkv[at] = ACT_ST(accumulate ? ACT_LD(dqkv[at]) + dq[d] : dq[d]);
    }
    if (alibi) delta[deltaOff + bh * T + i] = pSum > 0.0f ? dsDist - dsSum * (pDist / pSum) : 0.0f;
}

/*
 * dAlibiScale[h] += −slope[h] · Σ_{b,i} part[b,h,i] where alibiScale[h] ≥ 0 (max(·, 0) passes no
 * gradient below zero; at zero it does, as in the reference). One work-group per head, a tree
 * reduction in local memory. global (ATT_RED·H), local (ATT_RED).
 */
#define ATT_RED 64
KERNEL void attention_alibi_grad(GLOBAL const float *part, int partOff,
                                 GLOBAL const float *slopes, int slopesOff,
                                 GLOBAL const float *ascale, int ascaleOff,
                                 GLOBAL float *dscale, int dscaleOff, int B, int T, int H) {
    LOCAL_ARRAY(float, red, ATT_RED);
    const int lid = LID(0);
    const int h = GROUP_ID(0);
    float sum = 0.0f;
    for (int b = 0; b < B; b++) {
        for (int i = lid; i < T; i += ATT_RED) sum += part[partOff + (b * H + h) * T + i];
    }
    const float total = d2v_block_sum(red, sum);
    if (lid == 0 && ascale[ascaleOff + h] >= 0.0f) dscale[dscaleOff + h] += -slopes[slopesOff + h] * total;
}

/* Σ_d a[d]·b[d] in 8 partial sums (so the loop vectorises without reassociation), added in a fixed tree. */
DEVICE_FN float att_dot(GLOBAL const ACT *a, GLOBAL const ACT *b, int n) {
    float part[8];
#pragma unroll
    for (int u = 0; u < 8; u++) part[u] = 0.0f;
    const int body = n - n % 8;
    for (int d = 0; d < body; d += 8)
        for (int u = 0; u < 8; u++) part[u] = FMA(ACT_LD(a[d + u]), ACT_LD(b[d + u]), part[u]);
    for (int d = body; d < n; d++) part[0] = FMA(ACT_LD(a[d]), ACT_LD(b[d]), part[0]);
    return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
}

/*
 * Forward without local memory or barriers, the CPU (PoCL) shape: on PoCL every private value live
 * across a barrier (q, acc) is spilled to a per-work-item array, and a 32-row group mostly idles at
 * T = 11. Here each work-item owns one query row and reads its keys and values straight from global
 * memory (they stay in cache: T rows of one head), in chunks of ATT_TILE keys for the online softmax;
 * the q·k dot is att_dot. Same semantics and dropout stream as
 * attention_forward. global (roundup(B·H·T, 64)), local (64); work-item n = (b, h, i), i fastest.
 */
KERNEL void attention_forward_rows(
        GLOBAL const ACT *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL ACT *out, int outOff, GLOBAL float *lse, int lseOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset) {
    const int n = GID(0);
    if (n >= B * H * T) return;
    const int i = n % T, bh = n / T;
    const int b = bh / H, h = bh % H;
    const int rowStride = 3 * H * Dh;
    const float coef = att_alibi_coef(alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const int posI = alibi ? pos[posOff + b * T + i] : 0;
    GLOBAL const ACT *q = qkv + qkvOff + (b * T + i) * rowStride + h * Dh;
    GLOBAL const ACT *keys = qkv + qkvOff + b * T * rowStride + H * Dh + h * Dh;
    GLOBAL const ACT *values = keys + H * Dh;

    float acc[ATT_DMAX];
    for (int d = 0; d < Dh; d++) acc[d] = 0.0f;
    float m = ATT_NEG_BIG, l = 0.0f;
    const U64 rowBase = ((U64) bh * (U64) T + (U64) i) * (U64) T;
    U64 cachedBlock = ~(U64) 0;
    U32 words[4] = {0u, 0u, 0u, 0u};

    for (int j0 = 0; j0 < T; j0 += ATT_TILE) {
        const int cnt = min(ATT_TILE, T - j0);
        float s[ATT_TILE];
        float tmax = ATT_NEG_BIG;
        bool any = false;
        for (int r = 0; r < cnt; r++) {
            if (keyPadding && pad[padOff + b * T + j0 + r] != 0) continue;
            GLOBAL const ACT *k = keys + (j0 + r) * rowStride;
            const float dot = att_dot(q, k, Dh);
            const int posJ = alibi ? pos[posOff + b * T + j0 + r] : 0;
            s[r] = scale * dot - coef * FABS((float) (posI - posJ));
            tmax = FMAX(tmax, s[r]);
            any = true;
        }
        if (!any) continue;
        const float mNew = FMAX(m, tmax);
        const float corr = EXP(m - mNew);
        l *= corr;
        for (int d = 0; d < Dh; d++) acc[d] *= corr;
        for (int r = 0; r < cnt; r++) {
            if (keyPadding && pad[padOff + b * T + j0 + r] != 0) continue;
            const float p = EXP(s[r] - mNew);
            l += p;
            float wgt = p;
            if (dropThreshold > 0) {
                const U64 e = rowBase + (U64) (j0 + r);
                const U64 blk = (U64) offset + e / 4;
                if (blk != cachedBlock) {
                    d2v_philox(blk, (U64) seed, words);
                    cachedBlock = blk;
                }
                wgt = ((I64) words[(int) (e % 4)] >= dropThreshold) ? p * dropScale : 0.0f;
            }
            if (wgt != 0.0f) {
                GLOBAL const ACT *v = values + (j0 + r) * rowStride;
                for (int d = 0; d < Dh; d++) acc[d] = FMA(wgt, ACT_LD(v[d]), acc[d]);
            }
        }
        m = mNew;
    }
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = 0; d < Dh; d++) out[outOff + ((b * T + i) * H + h) * Dh + d] = ACT_ST(acc[d] * inv);
    lse[lseOff + bh * T + i] = l > 0.0f ? m + LOG(l) : -D2V_INF; /* every key padded: out 0 */
}

/*
 * dK and dV without local memory or barriers (the CPU shape, see attention_forward_rows): one
 * work-item per key, queries and dO read straight from global memory. Same sums, in the same
 * query order, as attention_backward_kv. global (roundup(B·H·T, 64)), local (64); n = (b, h, j).
 */
KERNEL void attention_backward_kv_rows(
        GLOBAL const ACT *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const ACT *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL const float *delta, int deltaOff, GLOBAL ACT *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    const int n = GID(0);
    if (n >= B * H * T) return;
    const int j = n % T, bh = n / T;
    const int b = bh / H, h = bh % H;
    const int rowStride = 3 * H * Dh;
    const bool active = !(keyPadding && pad[padOff + b * T + j] != 0);
    const float coef = att_alibi_coef(alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const int posJ = alibi ? pos[posOff + b * T + j] : 0;
    GLOBAL const ACT *k = qkv + qkvOff + (b * T + j) * rowStride + H * Dh + h * Dh;
    GLOBAL const ACT *v = k + H * Dh;

    float dk[ATT_DMAX], dv[ATT_DMAX];
    for (int d = 0; d < Dh; d++) {
        dk[d] = 0.0f;
        dv[d] = 0.0f;
    }
    for (int i = 0; active && i < T; i++) {
        GLOBAL const ACT *q = qkv + qkvOff + (b * T + i) * rowStride + h * Dh;
        GLOBAL const ACT *g = dout + doutOff + ((b * T + i) * H + h) * Dh;
        const float qk = att_dot(q, k, Dh), gv = att_dot(g, v, Dh);
        const int posI = alibi ? pos[posOff + b * T + i] : 0;
        const float sc = scale * qk - coef * FABS((float) (posI - posJ));
        const float p = EXP(sc - lse[lseOff + bh * T + i]);
        float z = 1.0f;
        if (dropThreshold > 0) {
            const U64 e = ((U64) bh * (U64) T + (U64) i) * (U64) T + (U64) j;
            z = ((I64) att_word((U64) seed, (U64) offset, e) >= dropThreshold) ? dropScale : 0.0f;
        }
        const float pz = p * z;
        const float ds = p * (z * gv - delta[deltaOff + bh * T + i]) * scale;
        for (int d = 0; d < Dh; d++) {
            dv[d] = FMA(pz, ACT_LD(g[d]), dv[d]);
            dk[d] = FMA(ds, ACT_LD(q[d]), dk[d]);
        }
    }
    const int dBase = dqkvOff + (b * T + j) * rowStride + h * Dh;
    for (int d = 0; d < Dh; d++) {
        if (accumulate) {
            dqkv[dBase + H * Dh + d] = ACT_ST(ACT_LD(dqkv[dBase + H * Dh + d]) + dk[d]);
            dqkv[dBase + 2 * H * Dh + d] = ACT_ST(ACT_LD(dqkv[dBase + 2 * H * Dh + d]) + dv[d]);
        } else {
            dqkv[dBase + H * Dh + d] = ACT_ST(dk[d]);
            dqkv[dBase + 2 * H * Dh + d] = ACT_ST(dv[d]);
        }
    }
}

/*
 * dQ (and the ALiBi share in delta) without local memory or barriers: one work-item per query,
 * keys and values read straight from global memory. Same sums as attention_backward_q (see there
 * for the ALiBi share). global (roundup(B·H·T, 64)), local (64); n = (b, h, i).
 */
KERNEL void attention_backward_q_rows(
        GLOBAL const ACT *qkv, int qkvOff,
        GLOBAL const float *slopes, int slopesOff, GLOBAL const float *ascale, int ascaleOff,
        GLOBAL const int *pos, int posOff, GLOBAL const int *pad, int padOff,
        GLOBAL const ACT *dout, int doutOff, GLOBAL const float *lse, int lseOff,
        GLOBAL float *delta, int deltaOff, GLOBAL ACT *dqkv, int dqkvOff,
        int B, int T, int H, int Dh, float scale, int alibi, int keyPadding,
        I64 dropThreshold, float dropScale, I64 seed, I64 offset, int accumulate) {
    const int n = GID(0);
    if (n >= B * H * T) return;
    const int i = n % T, bh = n / T;
    const int b = bh / H, h = bh % H;
    const int rowStride = 3 * H * Dh;
    const float coef = att_alibi_coef(alibi, slopes, slopesOff, ascale, ascaleOff, h);
    const int posI = alibi ? pos[posOff + b * T + i] : 0;
    GLOBAL const ACT *q = qkv + qkvOff + (b * T + i) * rowStride + h * Dh;
    GLOBAL const ACT *g = dout + doutOff + ((b * T + i) * H + h) * Dh;
    GLOBAL const ACT *keys = qkv + qkvOff + b * T * rowStride + H * Dh + h * Dh;
    GLOBAL const ACT *values = keys + H * Dh;

    float dq[ATT_DMAX];
    for (int d = 0; d < Dh; d++) dq[d] = 0.0f;
    const float rowLse = lse[lseOff + bh * T + i];
    const float rowDelta = delta[deltaOff + bh * T + i];
    float dsSum = 0.0f, dsDist = 0.0f, pSum = 0.0f, pDist = 0.0f;
    const U64 rowBase = ((U64) bh * (U64) T + (U64) i) * (U64) T;
    U64 cachedBlock = ~(U64) 0;
    U32 words[4] = {0u, 0u, 0u, 0u};

    for (int j = 0; j < T; j++) {
        if (keyPadding && pad[padOff + b * T + j] != 0) continue;
        GLOBAL const ACT *k = keys + j * rowStride;
        const float qk = att_dot(q, k, Dh), gv = att_dot(g, values + j * rowStride, Dh);
        const float dist = FABS((float) (posI - (alibi ? pos[posOff + b * T + j] : 0)));
        const float p = EXP(scale * qk - coef * dist - rowLse);
        float z = 1.0f;
        if (dropThreshold > 0) {
            const U64 e = rowBase + (U64) j;
            const U64 blk = (U64) offset + e / 4;
            if (blk != cachedBlock) {
                d2v_philox(blk, (U64) seed, words);
                cachedBlock = blk;
            }
            z = ((I64) words[(int) (e % 4)] >= dropThreshold) ? dropScale : 0.0f;
        }
        const float ds = p * (z * gv - rowDelta);
        dsSum += ds;
        dsDist += ds * dist;
        pSum += p;
        pDist += p * dist;
        const float dss = ds * scale;
        for (int d = 0; d < Dh; d++) dq[d] = FMA(dss, ACT_LD(k[d]), dq[d]);
    }
    for (int d = 0; d < Dh; d++) {
        const int at = dqkvOff + (b * T + i) * rowStride + h * Dh + d;
        dqkv[at] = ACT_ST(accumulate ? ACT_LD(dqkv[at]) + dq[d] : dq[d]);
    }
    if (alibi) delta[deltaOff + bh * T + i] = pSum > 0.0f ? dsDist - dsSum * (pDist / pSum) : 0.0f;
}
