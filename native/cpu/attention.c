/* Fused attention forward and backward as host loops for a CPU OpenCL device (called by
 * openblas.c's native kernels): the math of kernels/attention.cl's "_rows" kernels, shaped for
 * the short sequences of d2v's student and teacher (T of 5 to a few hundred): per (batch, head)
 * the keys (and, backward, the values) are copied once into columns [Dh][Tp], Tp = T rounded up to
 * 16 floats, so that one query row's T scores are Dh vector multiply-adds over the keys instead of
 * T dot products of Dh (each ending in a horizontal sum: 4x slower at Dh = 24; up to FEW_KEYS
 * keys the dot products win, the copies costing more than they save); each row's
 * softmax, dropout factors and dS are arrays over the keys, and the backward pass does dK/dV
 * (columns too), dQ and the ALiBi shares in one sweep over the query rows instead of four
 * launches. Every sum runs in a fixed order: deterministic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_kernels.h"
#include "host_pool.h"
#include "host_math.h"

#define TARGETS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

#define COLS 16 /* key columns are padded to a multiple of this many floats (one AVX-512 vector) */

static inline __attribute__((always_inline)) float dot(const float *a, const float *b, int n) {
    float part[8] = {0};
    int body = n - n % 8;
    for (int d = 0; d < body; d += 8)
        for (int u = 0; u < 8; u++) part[u] = fmaf(a[d + u], b[d + u], part[u]);
    for (int d = body; d < n; d++) part[0] = fmaf(a[d], b[d], part[0]);
    return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
}

/* COLS floats as one vector (GCC's vector extension: one AVX-512 register, two AVX2 ones), loaded
 * and stored unaligned: the loops below keep their sums in registers, which GCC's vectoriser
 * did not (it left 16 scalar sums, 4x slower). */
typedef float cols_vec __attribute__((vector_size(4 * COLS), aligned(4)));

static inline __attribute__((always_inline)) cols_vec load_cols(const float *p) {
    cols_vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* out[j] = Σ_d a[d]·cols[d][j] over tp columns (tp a multiple of COLS). */
static inline __attribute__((always_inline)) void row_times_cols(const float *a, const float *cols, int dh, int tp, float *out) {
    for (int j0 = 0; j0 < tp; j0 += COLS) {
        cols_vec even = {0}, odd = {0}; /* two chains of multiply-adds, so each waits half as long */
        int d = 0;
        for (; d + 1 < dh; d += 2) {
            even += a[d] * load_cols(cols + (int64_t)d * tp + j0);
            odd += a[d + 1] * load_cols(cols + (int64_t)(d + 1) * tp + j0);
        }
        if (d < dh) even += a[d] * load_cols(cols + (int64_t)d * tp + j0);
        cols_vec acc = even + odd;
        memcpy(out + j0, &acc, sizeof acc);
    }
}

/* out[j] = a·rows[j] over n rows of stride `stride` (Dh floats each), 0 for j in [n, tp): the scores
 * of a short sequence straight from the rows, where the columns' copy would cost more than it saves. */
static inline __attribute__((always_inline)) void row_dots(const float *a, const float *rows, int64_t stride, int n, int dh, int tp,
                                                           float *out) {
    for (int j = 0; j < n; j++) out[j] = dot(a, rows + (int64_t)j * stride, dh);
    for (int j = n; j < tp; j++) out[j] = 0.0f;
}

/* out[c] = Σ_j w[j]·rows[j][c] over n rows of stride dp (a multiple of COLS, zero past the head
 * size); a row of weight 0 adds nothing, whatever it holds (padded keys hold finite values). */
static inline __attribute__((always_inline)) void weighted_rows(const float *w, const float *rows, int n, int dp, float *out) {
    for (int c0 = 0; c0 < dp; c0 += COLS) {
        cols_vec even = {0}, odd = {0};
        int j = 0;
        for (; j + 1 < n; j += 2) {
            even += w[j] * load_cols(rows + (int64_t)j * dp + c0);
            odd += w[j + 1] * load_cols(rows + (int64_t)(j + 1) * dp + c0);
        }
        if (j < n) even += w[j] * load_cols(rows + (int64_t)j * dp + c0);
        cols_vec acc = even + odd;
        memcpy(out + c0, &acc, sizeof acc);
    }
}

/* One query row's softmax over tp keys (keep 0 past T and for padded keys): logits scale·s −
 * coef·dist, their max m over live keys (returned in *m), w = keep·exp(logit − m)·z; returns Σ of
 * the un-dropped terms (l). Max and sum run in COLS lanes, combined in a fixed order. */
static inline __attribute__((always_inline)) float row_softmax(float *restrict s, const float *restrict keep,
                                                               const float *restrict dist, const float *restrict z, float scale,
                                                               float coef, int tp, float *restrict m, float *restrict w) {
    cols_vec big = {0}, vmax;
    big -= 3.0e38f;
    vmax = big;
    for (int j0 = 0; j0 < tp; j0 += COLS) {
        cols_vec logit = scale * load_cols(s + j0) - coef * load_cols(dist + j0);
        memcpy(s + j0, &logit, sizeof logit);
        cols_vec live = load_cols(keep + j0);
        for (int u = 0; u < COLS; u++) vmax[u] = live[u] != 0.0f && logit[u] > vmax[u] ? logit[u] : vmax[u];
    }
    float mx = vmax[0];
    for (int u = 1; u < COLS; u++) mx = vmax[u] > mx ? vmax[u] : mx;
    cols_vec sum = {0};
    for (int j = 0; j < tp; j++) s[j] = keep[j] * exp_vec(s[j] - mx);
    for (int j0 = 0; j0 < tp; j0 += COLS) sum += load_cols(s + j0);
    for (int j = 0; j < tp; j++) w[j] = s[j] * z[j];
    float l = 0.0f;
    for (int u = 0; u < COLS; u++) l += sum[u];
    *m = mx;
    return l;
}

/* One query row's p = keep·exp(scale·s − coef·dist − lse), dS = p·(z·gv − delta) and p·z over tp
 * keys (separate arrays, so that the loop vectorises). */
static inline __attribute__((always_inline)) void row_gradients(const float *restrict s, const float *restrict gv,
                                                                const float *restrict keep, const float *restrict dist,
                                                                const float *restrict z, float scale, float coef, float lse,
                                                                float delta, int tp, float *restrict p, float *restrict ds,
                                                                float *restrict pz) {
    for (int j = 0; j < tp; j++) {
        p[j] = keep[j] * exp_vec(scale * s[j] - coef * dist[j] - lse);
        ds[j] = p[j] * (z[j] * gv[j] - delta);
        pz[j] = p[j] * z[j];
    }
}

/* The bias coefficient of head h: slope·max(scale, 0), 0 without ALiBi. */
static float alibi_coef(const attention_desc *d, const attention_tensors *t, int h) {
    if (!d->alibi) return 0.0f;
    float s = t->ascale[h];
    return t->slopes[h] * (s > 0.0f ? s : 0.0f);
}

/* Row i's dropout factors over its T keys (1 everywhere without dropout): z = drop_scale where the
 * element's Philox word is at least the threshold, else 0 (attention.cl's stream and test). */
static inline __attribute__((always_inline)) void dropout_row(const attention_desc *d, int bh, int i, float *z) {
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

/* Copies head h's keys of sample b, where kt is given, into columns kt [Dh][tp] (zero past T), its
 * values into rows v [T][dp] (zero past Dh) and, where vt is given, into columns vt; marks the live keys (1, or 0 where padded or past
 * T) in keep [tp]; returns how many are live. */
static inline __attribute__((always_inline)) int gather_keys(const attention_desc *d, const attention_tensors *t, int b, int h, int tp,
                                                             int dp, float *kt, float *v, float *vt, float *keep) {
    int T = d->tokens, H = d->heads, Dh = d->head_dim, live = 0;
    int64_t rs = 3 * (int64_t)H * Dh;
    if (kt != NULL) memset(kt, 0, sizeof(float) * (size_t)Dh * tp);
    if (vt != NULL) memset(vt, 0, sizeof(float) * (size_t)Dh * tp);
    for (int j = 0; j < tp; j++) keep[j] = 0.0f;
    for (int j = 0; j < T; j++) {
        const float *row = t->qkv + ((int64_t)b * T + j) * rs + (int64_t)h * Dh;
        const float *kr = row + (int64_t)H * Dh, *vr = row + 2 * (int64_t)H * Dh;
        if (kt != NULL)
            for (int c = 0; c < Dh; c++) kt[(int64_t)c * tp + j] = kr[c];
        if (vt != NULL)
            for (int c = 0; c < Dh; c++) vt[(int64_t)c * tp + j] = vr[c];
        memcpy(v + (int64_t)j * dp, vr, sizeof(float) * Dh);
        for (int c = Dh; c < dp; c++) v[(int64_t)j * dp + c] = 0.0f;
        keep[j] = d->key_padding && t->pad[(int64_t)b * T + j] != 0 ? 0.0f : 1.0f;
        live += keep[j] != 0.0f;
    }
    return live;
}

/* |pos_i − pos_j| over the keys j of sample b (left as they are, zeros, without ALiBi). */
static inline __attribute__((always_inline)) void distances(const attention_desc *d, const attention_tensors *t, int b, int i,
                                                            float *dist) {
    if (!d->alibi) return;
    int T = d->tokens;
    const int32_t *pos = t->pos + (int64_t)b * T;
    for (int j = 0; j < T; j++) dist[j] = fabsf((float)(pos[i] - pos[j]));
}

static int columns(int n) { return (n + COLS - 1) / COLS * COLS; }

/* Up to FEW_KEYS keys (the image student's 5 tokens) a pair works on rows: scores as dot products,
 * dK and dV as rows, no key or value columns. Copying T keys into a column block of 16 and back took
 * a fifth of the backward there; past a few keys the columns' vector multiply-adds win. */
#define FEW_KEYS 8
static int few_keys(const attention_desc *d) { return d->tokens <= FEW_KEYS; }

/* The (batch, head) pairs [lo, hi) of the forward pass (pair b·H + h), with their own scratch. */
TARGETS static int forward_pairs(const attention_desc *d, const attention_tensors *t, int64_t lo, int64_t hi) {
    int T = d->tokens, H = d->heads, Dh = d->head_dim, tp = columns(T), dp = columns(Dh), few = few_keys(d);
    int64_t rs = 3 * (int64_t)H * Dh;
    float *kt = malloc(sizeof(float) * ((size_t)Dh * tp + (size_t)T * dp + 5 * (size_t)tp + dp));
    if (kt == NULL) return -1;
    float *v = kt + (int64_t)Dh * tp, *keep = v + (int64_t)T * dp, *s = keep + tp, *w = s + tp, *z = w + tp, *dist = z + tp;
    float *acc = dist + tp;
    for (int j = 0; j < tp; j++) z[j] = 1.0f, dist[j] = 0.0f;
    for (int64_t pair = lo; pair < hi; pair++) {
        int b = (int)(pair / H), h = (int)(pair % H);
        int live = gather_keys(d, t, b, h, tp, dp, few ? NULL : kt, v, NULL, keep);
        const float *keys = t->qkv + (int64_t)b * T * rs + (int64_t)(H + h) * Dh; /* row j at keys + j·rs */
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
            if (few) row_dots(q, keys, rs, T, Dh, tp, s);
            else row_times_cols(q, kt, Dh, tp, s);
            distances(d, t, b, i, dist);
            if (d->drop_threshold > 0) dropout_row(d, bh, i, z);
            float m, l = row_softmax(s, keep, dist, z, d->scale, coef, tp, &m, w);
            weighted_rows(w, v, T, dp, acc);
            float inv = 1.0f / l;
            for (int c = 0; c < Dh; c++) o[c] = acc[c] * inv;
            *lse = m + logf(l);
        }
    }
    free(kt);
    return 0;
}

/* Row i's share of ∂L/∂alibiScale before the −slope factor: Σ dS·dist − Σ dS · (Σ p·dist / Σ p)
 * (attention_backward_q explains the centring), the four sums in COLS lanes added in a fixed order. */
static inline __attribute__((always_inline)) float alibi_share(const float *p, const float *ds, const float *dist, int tp) {
    cols_vec s0 = {0}, s1 = {0}, p0 = {0}, p1 = {0};
    for (int j0 = 0; j0 < tp; j0 += COLS) {
        cols_vec vp = load_cols(p + j0), vds = load_cols(ds + j0), vd = load_cols(dist + j0);
        s0 += vds, s1 += vds * vd, p0 += vp, p1 += vp * vd;
    }
    float dsSum = 0.0f, dsDist = 0.0f, pSum = 0.0f, pDist = 0.0f;
    for (int u = 0; u < COLS; u++) dsSum += s0[u], dsDist += s1[u], pSum += p0[u], pDist += p1[u];
    return pSum > 0.0f ? dsDist - dsSum * (pDist / pSum) : 0.0f;
}

/* dS = p·(z·dO·v − delta), delta = rowsum(dO ⊙ O), p = exp(s − lse) from the forward's lse;
 * dQ (+)= scale·dS·K, dK (+)= scale·dSᵀ·Q, dV (+)= (p·z)ᵀ·dO; with ALiBi each row's share of
 * ∂L/∂scale is Σ dS·dist less dsSum times the p-weighted mean distance (see attention_backward_q
 * for why), and dscale[h] += −slope·Σ shares where scale ≥ 0. */
/* The (batch, head) pairs [lo, hi) of the backward pass whose head is in [h0, h1), with their own
 * scratch; ALiBi shares add into shares[h] in pair order. */
TARGETS static int backward_pairs(const attention_desc *d, const attention_tensors *t, int64_t lo, int64_t hi, int h0, int h1,
                                  double *shares) {
    int T = d->tokens, H = d->heads, Dh = d->head_dim, tp = columns(T), dp = columns(Dh), few = few_keys(d);
    int64_t rs = 3 * (int64_t)H * Dh, cols = (int64_t)Dh * tp, rows = (int64_t)T * dp;
    float *kt = malloc(sizeof(float) * ((size_t)4 * cols + 4 * (size_t)rows + 8 * (size_t)tp + dp));
    if (kt == NULL) return -1;
    float *vt = kt + cols, *dkt = vt + cols, *dvt = dkt + cols, *k = dvt + cols, *v = k + rows, *dk = v + rows, *dv = dk + rows;
    float *keep = dv + rows;
    float *p = keep + tp, *gv = p + tp, *z = gv + tp, *dist = z + tp, *ds = dist + tp, *pz = ds + tp, *sc = pz + tp, *dq = sc + tp;
    for (int j = 0; j < tp; j++) z[j] = 1.0f, dist[j] = 0.0f;
    for (int64_t pair = lo; pair < hi; pair++) {
        int b = (int)(pair / H), h = (int)(pair % H);
        if (h >= h0 && h < h1) {
            int live = gather_keys(d, t, b, h, tp, dp, few ? NULL : kt, v, few ? NULL : vt, keep);
            for (int j = 0; j < T; j++) {
                const float *kr = t->qkv + ((int64_t)b * T + j) * rs + (int64_t)(H + h) * Dh;
                for (int c = 0; c < dp; c++) k[(int64_t)j * dp + c] = c < Dh ? kr[c] : 0.0f;
            }
            float coef = alibi_coef(d, t, h);
            int bh = b * H + h;
            if (few) memset(dk, 0, sizeof(float) * 2 * rows); /* dk and dv */
            else memset(dkt, 0, sizeof(float) * 2 * cols); /* dkt and dvt */
            for (int i = 0; live > 0 && i < T; i++) {
                int64_t row = (int64_t)b * T + i;
                const float *q = t->qkv + row * rs + (int64_t)h * Dh;
                const float *g = t->dout + (row * H + h) * Dh, *o = t->out + (row * H + h) * Dh;
                float delta = dot(g, o, Dh), lse = t->lse[(int64_t)bh * T + i];
                if (few) {
                    row_dots(q, k, dp, T, Dh, tp, sc);
                    row_dots(g, v, dp, T, Dh, tp, gv);
                } else {
                    row_times_cols(q, kt, Dh, tp, sc);
                    row_times_cols(g, vt, Dh, tp, gv);
                }
                distances(d, t, b, i, dist);
                if (d->drop_threshold > 0) dropout_row(d, bh, i, z);
                row_gradients(sc, gv, keep, dist, z, d->scale, coef, lse, delta, tp, p, ds, pz); /* past T: keep 0, so all 0 */
                if (d->alibi) shares[h] += alibi_share(p, ds, dist, tp);
                for (int j = 0; j < tp; j++) ds[j] *= d->scale;
                weighted_rows(ds, k, T, dp, dq);
                for (int j = 0; few && j < T; j++) { /* dK, dV rows += dS·q, (p·z)·dO */
                    float *dkj = dk + (int64_t)j * dp, *dvj = dv + (int64_t)j * dp;
                    for (int c = 0; c < Dh; c++) {
                        dkj[c] += q[c] * ds[j];
                        dvj[c] += g[c] * pz[j];
                    }
                }
                for (int j0 = 0; !few && j0 < tp; j0 += COLS) { /* dK, dV columns += q·dS, dO·(p·z) */
                    cols_vec vds = load_cols(ds + j0), vpz = load_cols(pz + j0);
                    for (int c = 0; c < Dh; c++) {
                        cols_vec dkc = load_cols(dkt + (int64_t)c * tp + j0) + q[c] * vds;
                        cols_vec dvc = load_cols(dvt + (int64_t)c * tp + j0) + g[c] * vpz;
                        memcpy(dkt + (int64_t)c * tp + j0, &dkc, sizeof dkc);
                        memcpy(dvt + (int64_t)c * tp + j0, &dvc, sizeof dvc);
                    }
                }
                float *dqr = t->dqkv + row * rs + (int64_t)h * Dh;
                for (int c = 0; c < Dh; c++) dqr[c] = d->accumulate ? dqr[c] + dq[c] : dq[c];
            }
            for (int i = 0; live == 0 && i < T; i++) { /* nothing attended: dQ gets nothing */
                float *dqr = t->dqkv + ((int64_t)b * T + i) * rs + (int64_t)h * Dh;
                if (!d->accumulate) memset(dqr, 0, sizeof(float) * Dh);
            }
            for (int j = 0; j < T; j++) {
                float *dkr = t->dqkv + ((int64_t)b * T + j) * rs + (int64_t)(H + h) * Dh, *dvr = dkr + (int64_t)H * Dh;
                for (int c = 0; c < Dh; c++) {
                    float gk = few ? dk[(int64_t)j * dp + c] : dkt[(int64_t)c * tp + j];
                    float gw = few ? dv[(int64_t)j * dp + c] : dvt[(int64_t)c * tp + j];
                    dkr[c] = d->accumulate ? dkr[c] + gk : gk;
                    dvr[c] = d->accumulate ? dvr[c] + gw : gw;
                }
            }
        }
    }
    free(kt);
    return 0;
}

/* ---- the passes over the pool (host_pool.h). The forward's pairs are independent; so are the
 * backward's, except for the ALiBi shares of each head, summed over the batch: with ALiBi the
 * backward splits by heads, so that each head's sum keeps its order whatever the thread count. */
#define ATTENTION_MIN 65536.0 /* multiply-adds per part (a few tens of us) */

typedef struct {
    const attention_desc *d;
    const attention_tensors *t;
    int parts, by_head;
    double *shares;
    _Atomic int failed;
} attention_split;

static void forward_part(void *ctx, int part) {
    attention_split *s = ctx;
    int64_t lo, hi;
    d2v_pool_range((int64_t)s->d->batch * s->d->heads, s->parts, part, 1, &lo, &hi);
    if (lo < hi && forward_pairs(s->d, s->t, lo, hi) != 0) s->failed = 1;
}

static void backward_part(void *ctx, int part) {
    attention_split *s = ctx;
    int64_t pairs = (int64_t)s->d->batch * s->d->heads, lo, hi;
    if (s->by_head) {
        d2v_pool_range(s->d->heads, s->parts, part, 1, &lo, &hi);
        if (lo < hi && backward_pairs(s->d, s->t, 0, pairs, (int)lo, (int)hi, s->shares) != 0) s->failed = 1;
    } else {
        d2v_pool_range(pairs, s->parts, part, 1, &lo, &hi);
        if (lo < hi && backward_pairs(s->d, s->t, lo, hi, 0, s->d->heads, s->shares) != 0) s->failed = 1;
    }
}

static double attention_work(const attention_desc *d) {
    return (double)d->batch * d->heads * d->tokens * (double)columns(d->tokens) * d->head_dim;
}

int d2v_attention_forward(const attention_desc *d, const attention_tensors *t) {
    attention_split s = {.d = d, .t = t};
    s.parts = d2v_pool_parts(2.0 * attention_work(d), ATTENTION_MIN, (int64_t)d->batch * d->heads);
    d2v_pool_run(s.parts, forward_part, &s);
    return s.failed ? -1 : 0;
}

int d2v_attention_backward(const attention_desc *d, const attention_tensors *t) {
    attention_split s = {.d = d, .t = t, .by_head = d->alibi};
    s.shares = calloc((size_t)d->heads, sizeof(double));
    if (s.shares == NULL) return -1;
    s.parts = d2v_pool_parts(4.0 * attention_work(d), ATTENTION_MIN, d->alibi ? d->heads : (int64_t)d->batch * d->heads);
    d2v_pool_run(s.parts, backward_part, &s);
    if (d->alibi && !s.failed) {
        for (int h = 0; h < d->heads; h++)
            if (t->ascale[h] >= 0.0f) t->dscale[h] += (float)(-(double)t->slopes[h] * s.shares[h]);
    }
    free(s.shares);
    return s.failed ? -1 : 0;
}
