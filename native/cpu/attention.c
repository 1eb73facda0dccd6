/* Fused attention forward and backward as host loops for a CPU OpenCL device (called by
 * openblas.c's native kernels): the math of kernels/attention.cl's "_rows" kernels, shaped for
 * the short sequences of d2v's student and teacher (T of 5 to a few hundred): per (batch, head)
 * the keys and values are copied into contiguous rows once, each query row's scores, softmax and
 * dropout factors are arrays over the keys (so exp and the bookkeeping vectorise), and the
 * backward pass does dK/dV, dQ and the ALiBi shares in one sweep over the query rows instead of
 * four launches. Dot products run in 8 lanes added in a fixed tree, as att_dot: deterministic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_kernels.h"
#include "host_math.h"

#define TARGETS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

static inline __attribute__((always_inline)) float dot(const float *a, const float *b, int n) {
    float part[8] = {0};
    int body = n - n % 8;
    for (int d = 0; d < body; d += 8)
        for (int u = 0; u < 8; u++) part[u] = fmaf(a[d + u], b[d + u], part[u]);
    for (int d = body; d < n; d++) part[0] = fmaf(a[d], b[d], part[0]);
    return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
}

static inline __attribute__((always_inline)) void axpy(float a, const float *x, float *y, int n) {
    for (int d = 0; d < n; d++) y[d] = fmaf(a, x[d], y[d]);
}

/* The bias coefficient of head h: slope·max(scale, 0), 0 without ALiBi. */
static float alibi_coef(const attention_desc *d, const attention_tensors *t, int h) {
    if (!d->alibi) return 0.0f;
    float s = t->ascale[h];
    return t->slopes[h] * (s > 0.0f ? s : 0.0f);
}

/* Row i's dropout factors over its T keys (1 everywhere without dropout): z = drop_scale where the
 * element's Philox word is at least the threshold, else 0 (attention.cl's stream and test). */
static void dropout_row(const attention_desc *d, int bh, int i, float *z) {
    int T = d->tokens;
    if (d->drop_threshold <= 0) {
        for (int j = 0; j < T; j++) z[j] = 1.0f;
        return;
    }
    uint64_t row = ((uint64_t)bh * (uint64_t)T + (uint64_t)i) * (uint64_t)T;
    uint64_t cached = ~(uint64_t)0;
    uint32_t w[4] = {0, 0, 0, 0};
    for (int j = 0; j < T; j++) {
        uint64_t e = row + (uint64_t)j, blk = d->offset + e / 4;
        if (blk != cached) {
            PHILOX(blk, d->seed, w[0], w[1], w[2], w[3]);
            cached = blk;
        }
        z[j] = (int64_t)w[e % 4] >= d->drop_threshold ? d->drop_scale : 0.0f;
    }
}

/* Copies head h's keys and values of sample b into k and v ([T][Dh]) and marks the live keys
 * (1, or 0 where padded) in keep; returns how many are live. */
static int gather_keys(const attention_desc *d, const attention_tensors *t, int b, int h, float *k, float *v, float *keep) {
    int T = d->tokens, H = d->heads, Dh = d->head_dim, live = 0;
    int64_t rs = 3 * (int64_t)H * Dh;
    for (int j = 0; j < T; j++) {
        const float *row = t->qkv + ((int64_t)b * T + j) * rs + (int64_t)h * Dh;
        memcpy(k + (int64_t)j * Dh, row + (int64_t)H * Dh, sizeof(float) * Dh);
        memcpy(v + (int64_t)j * Dh, row + 2 * (int64_t)H * Dh, sizeof(float) * Dh);
        keep[j] = d->key_padding && t->pad[(int64_t)b * T + j] != 0 ? 0.0f : 1.0f;
        live += keep[j] != 0.0f;
    }
    return live;
}

/* |pos_i − pos_j| over the keys j of sample b (0 without ALiBi). */
static void distances(const attention_desc *d, const attention_tensors *t, int b, int i, float *dist) {
    int T = d->tokens;
    if (!d->alibi) {
        for (int j = 0; j < T; j++) dist[j] = 0.0f;
        return;
    }
    const int32_t *pos = t->pos + (int64_t)b * T;
    for (int j = 0; j < T; j++) dist[j] = fabsf((float)(pos[i] - pos[j]));
}

TARGETS int d2v_attention_forward(const attention_desc *d, const attention_tensors *t) {
    int T = d->tokens, H = d->heads, Dh = d->head_dim;
    int64_t rs = 3 * (int64_t)H * Dh;
    float *k = malloc(sizeof(float) * ((size_t)2 * T * Dh + 4 * (size_t)T + Dh));
    if (k == NULL) return -1;
    float *v = k + (int64_t)T * Dh, *keep = v + (int64_t)T * Dh, *s = keep + T, *z = s + T, *dist = z + T, *acc = dist + T;
    for (int b = 0; b < d->batch; b++) {
        for (int h = 0; h < H; h++) {
            int live = gather_keys(d, t, b, h, k, v, keep);
            float coef = alibi_coef(d, t, h);
            int bh = b * H + h;
            for (int i = 0; i < T; i++) {
                float *o = t->out_w + (((int64_t)b * T + i) * H + h) * Dh;
                float *lse = t->lse_w + (int64_t)bh * T + i;
                if (live == 0) { /* every key padded: the row attends to nothing */
                    for (int c = 0; c < Dh; c++) o[c] = 0.0f;
                    *lse = -INFINITY;
                    continue;
                }
                const float *q = t->qkv + ((int64_t)b * T + i) * rs + (int64_t)h * Dh;
                distances(d, t, b, i, dist);
                float m = -3.0e38f;
                for (int j = 0; j < T; j++) {
                    s[j] = d->scale * dot(q, k + (int64_t)j * Dh, Dh) - coef * dist[j];
                    if (keep[j] != 0.0f && s[j] > m) m = s[j];
                }
                float l = 0.0f;
                for (int j = 0; j < T; j++) {
                    s[j] = keep[j] * exp_vec(s[j] - m);
                    l += s[j];
                }
                dropout_row(d, bh, i, z);
                for (int c = 0; c < Dh; c++) acc[c] = 0.0f;
                for (int j = 0; j < T; j++) {
                    float w = s[j] * z[j];
                    if (w != 0.0f) axpy(w, v + (int64_t)j * Dh, acc, Dh);
                }
                float inv = 1.0f / l;
                for (int c = 0; c < Dh; c++) o[c] = acc[c] * inv;
                *lse = m + logf(l);
            }
        }
    }
    free(k);
    return 0;
}

/* dS = p·(z·dO·v − delta), delta = rowsum(dO ⊙ O), p = exp(s − lse) from the forward's lse;
 * dQ (+)= scale·dS·K, dK (+)= scale·dSᵀ·Q, dV (+)= (p·z)ᵀ·dO; with ALiBi each row's share of
 * ∂L/∂scale is Σ dS·dist less dsSum times the p-weighted mean distance (see attention_backward_q
 * for why), and dscale[h] += −slope·Σ shares where scale ≥ 0. */
TARGETS int d2v_attention_backward(const attention_desc *d, const attention_tensors *t) {
    int T = d->tokens, H = d->heads, Dh = d->head_dim;
    int64_t rs = 3 * (int64_t)H * Dh, td = (int64_t)T * Dh;
    float *k = malloc(sizeof(float) * ((size_t)4 * td + 6 * (size_t)T + Dh));
    double *shares = calloc((size_t)H, sizeof(double));
    if (k == NULL || shares == NULL) {
        free(k);
        free(shares);
        return -1;
    }
    float *v = k + td, *dk = v + td, *dv = dk + td, *keep = dv + td, *p = keep + T, *gv = p + T, *z = gv + T, *dist = z + T,
          *ds = dist + T, *dq = ds + T;
    for (int b = 0; b < d->batch; b++) {
        for (int h = 0; h < H; h++) {
            int live = gather_keys(d, t, b, h, k, v, keep);
            float coef = alibi_coef(d, t, h);
            int bh = b * H + h;
            memset(dk, 0, sizeof(float) * 2 * td); /* dk and dv */
            for (int i = 0; live > 0 && i < T; i++) {
                int64_t row = (int64_t)b * T + i;
                const float *q = t->qkv + row * rs + (int64_t)h * Dh;
                const float *g = t->dout + (row * H + h) * Dh, *o = t->out + (row * H + h) * Dh;
                float delta = dot(g, o, Dh), lse = t->lse[(int64_t)bh * T + i];
                distances(d, t, b, i, dist);
                for (int j = 0; j < T; j++) {
                    p[j] = d->scale * dot(q, k + (int64_t)j * Dh, Dh) - coef * dist[j] - lse;
                    gv[j] = dot(g, v + (int64_t)j * Dh, Dh);
                }
                for (int j = 0; j < T; j++) p[j] = keep[j] * exp_vec(p[j]);
                dropout_row(d, bh, i, z);
                float dsSum = 0.0f, dsDist = 0.0f, pSum = 0.0f, pDist = 0.0f;
                for (int j = 0; j < T; j++) {
                    ds[j] = p[j] * (z[j] * gv[j] - delta);
                    dsSum += ds[j];
                    dsDist += ds[j] * dist[j];
                    pSum += p[j];
                    pDist += p[j] * dist[j];
                }
                for (int c = 0; c < Dh; c++) dq[c] = 0.0f;
                for (int j = 0; j < T; j++) {
                    if (p[j] == 0.0f) continue; /* a padded key, or one that underflowed */
                    float dss = ds[j] * d->scale;
                    axpy(dss, k + (int64_t)j * Dh, dq, Dh);
                    axpy(dss, q, dk + (int64_t)j * Dh, Dh);
                    axpy(p[j] * z[j], g, dv + (int64_t)j * Dh, Dh);
                }
                float *dqr = t->dqkv + row * rs + (int64_t)h * Dh;
                for (int c = 0; c < Dh; c++) dqr[c] = d->accumulate ? dqr[c] + dq[c] : dq[c];
                if (d->alibi && pSum > 0.0f) shares[h] += dsDist - dsSum * (pDist / pSum);
            }
            for (int i = 0; live == 0 && i < T; i++) { /* nothing attended: dQ gets nothing */
                float *dqr = t->dqkv + ((int64_t)b * T + i) * rs + (int64_t)h * Dh;
                if (!d->accumulate) memset(dqr, 0, sizeof(float) * Dh);
            }
            for (int j = 0; j < T; j++) {
                float *dkr = t->dqkv + ((int64_t)b * T + j) * rs + (int64_t)(H + h) * Dh, *dvr = dkr + (int64_t)H * Dh;
                const float *dkj = dk + (int64_t)j * Dh, *dvj = dv + (int64_t)j * Dh;
                for (int c = 0; c < Dh; c++) {
                    dkr[c] = d->accumulate ? dkr[c] + dkj[c] : dkj[c];
                    dvr[c] = d->accumulate ? dvr[c] + dvj[c] : dvj[c];
                }
            }
        }
    }
    if (d->alibi) {
        for (int h = 0; h < H; h++)
            if (t->ascale[h] >= 0.0f) t->dscale[h] += (float)(-(double)t->slopes[h] * shares[h]);
    }
    free(k);
    free(shares);
    return 0;
}
