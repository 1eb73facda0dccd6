/* JNI bindings of org.d2v.jni.OpenBlas: a CPU BLAS (OpenBLAS, or any library exporting
 * cblas_sgemm) run as OpenCL native kernels on a CPU OpenCL device (PoCL), so that d2v's GEMMs
 * stay in the device's in-order queue, between the kernels that produce and consume their
 * operands, and the host never waits for them. Both libraries are opened with dlopen at run
 * time (the ICD loader JOCL already loaded; OpenBLAS where it is installed), so neither headers
 * nor libraries are needed to build this file.
 *
 * A native kernel's memory objects are replaced by their host addresses when it runs (the
 * OpenCL 1.2 contract of clEnqueueNativeKernel); on a CPU device those are the buffers themselves.
 * The callback runs the product and the epilogue of d2v's matmul (see org.d2v.backend.MatmulDesc):
 * C[p] = act(op(A[p])·op(B[p or 0]) + bias), the pre-activation kept where asked, or
 * C[p] += op(A[p])·op(B[p or 0]) + bias when accumulating. */
#include <dlfcn.h>
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/d2v_jni.h"
#include "host_math.h"
#include "host_kernels.h"
#include "host_pool.h"

/* ---- the few OpenCL and CBLAS declarations used (no headers needed) ---- */
typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef void *cl_command_queue;
typedef void *cl_mem;
typedef void *cl_event;
typedef cl_int (*clEnqueueNativeKernel_fn)(cl_command_queue, void (*)(void *), void *, size_t, cl_uint, const cl_mem *,
                                           const void **, cl_uint, const cl_event *, cl_event *);
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_text_fn)(void);

static struct {
    void *blas, *opencl;
    char name[256];
    char inherited[64]; /* an OPENBLAS_CORETYPE choose_core_type replaced, or empty */
    cblas_sgemm_fn sgemm;
    set_threads_fn set_threads;   /* OpenBLAS only */
    get_threads_fn get_threads;   /* OpenBLAS only */
    get_text_fn corename, config; /* OpenBLAS only */
    clEnqueueNativeKernel_fn enqueue_native;
} blas;

/* One GEMM as the native kernel receives it. Operands may share a buffer (views of one
 * allocation), and OpenCL substitutes each distinct buffer once, so the struct lists the distinct
 * buffers (base, replaced by their host addresses in OpenCL's own copy of the struct) and each
 * operand names its buffer (slot, -1 where absent) and its element offset. The distinct buffers
 * are listed in the order of their creation: PoCL 3.1 sorts a native kernel's buffers by their
 * ids (creation order) and then fills the slots in that order, whatever order they were given
 * in; later releases keep the order given. Listing them sorted satisfies both. */
enum { OP_A, OP_B, OP_BIAS, OP_C, OP_PREACT };
#define OPERANDS 10 /* the most any call passes: attention's backward */
typedef struct {
    float *base[OPERANDS];
    int32_t slot[OPERANDS];
    int64_t offset[OPERANDS];
} operands;

typedef struct {
    operands ops;
    int64_t stride_a, stride_b, stride_c;     /* elements between batch entries (stride_b 0: broadcast) */
    int32_t m, n, k, trans_a, trans_b, batch;
    int32_t has_bias, gelu, has_preact, accumulate;
} gemm_args;

/* A grouped channels-last convolution (org.d2v.backend.ConvDesc) and which pass: forward
 * (A = x, B = w, BIAS = bias, C = y), input gradient (A = dy, B = w, C = dx) or weight gradient
 * (A = x, B = dy, BIAS = dbias, C = dw). */
enum { CONV_FORWARD, CONV_BACKWARD_INPUT, CONV_BACKWARD_WEIGHT };
typedef struct {
    operands ops;
    int32_t pass, batch, in_c, out_c, in_h, in_w, k_h, k_w, stride_h, stride_w, pad_h, pad_w, groups, accumulate;
} conv_args;

/* out[e] = mean + std·N(0, 1) from the Philox stream (seed, offset): element e reads block
 * offset + e/2, words (0, 1) for even e and (2, 3) for odd e (org.d2v.backend.Philox, random.cl). */
typedef struct {
    operands ops; /* C = out */
    int64_t n;
    uint64_t seed, offset;
    float mean, std;
} normal_args;

/* Dropout over n elements (org.d2v.backend.Ops#dropout, #dropoutBackward, random.cl's dropout):
 * C[e] (+)= keep · A[e] · scale, keep = word (e mod 4) of Philox block offset + e/4 >= threshold. */
typedef struct {
    operands ops; /* A = x, C = y */
    int64_t n;
    uint64_t seed, offset;
    uint32_t threshold;
    float scale;
    int32_t accumulate;
} dropout_args;

/* AdamW over n fp32 masters without a working copy (org.d2v.backend.AdamWDesc, optim.cl's adamw):
 * A = p, B = g, BIAS = m, C = v, PREACT = the device scalar that scales g (absent: 1). */
typedef struct {
    operands ops;
    int64_t n;
    float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, decay, step_size;
} adamw_args;

/* GELU over n elements: forward y = gelu(x) (A = x, C = y) or backward dx (+)= dy · gelu'(x)
 * (A = x, B = dy, C = dx). */
typedef struct {
    operands ops;
    int64_t n;
    int32_t backward, accumulate;
} gelu_args;

/* LayerNorm over the last dim (org.d2v.backend.Ops#layerNorm): forward operands x, gamma, beta, y,
 * mean, rstd; backward x, gamma, mean, rstd, dy, dx, dgamma, dbeta (absent ones are NULL). */
enum { LN_X, LN_GAMMA, LN_BETA, LN_Y, LN_MEAN, LN_RSTD };
enum { LNB_X, LNB_GAMMA, LNB_MEAN, LNB_RSTD, LNB_DY, LNB_DX, LNB_DGAMMA, LNB_DBETA };
typedef struct {
    operands ops;
    int32_t rows, dim, backward, accumulate;
    float eps;
} norm_args;

/* Attention forward (operands qkv, slopes, ascale, pos, pad, out, lse) or backward (those, then
 * dout, dqkv, dscale), absent ones 0; the math is attention.c's. */
enum { AT_QKV, AT_SLOPES, AT_ASCALE, AT_POS, AT_PAD, AT_OUT, AT_LSE, AT_DOUT, AT_DQKV, AT_DSCALE };
typedef struct {
    operands ops;
    attention_desc d;
    int32_t backward;
} attention_args;

/* out[i, k] (+)= alpha · Σ_j x[i, j, k] over x [a, b, c] (org.d2v.backend.Ops#reduceMiddle): A = x, C = out. */
typedef struct {
    operands ops;
    int32_t a, b, c, accumulate;
    float alpha;
} reduce_args;

/* Splitting over the pool (host_pool.h): blocks of TILE rows, columns or elements (16 is
 * OpenBLAS's register tile and one AVX-512 vector), and the least work per part worth a wake-up. */
#define TILE 16
#define GEMM_MIN_FLOPS 1.0e6   /* ~20 us of OpenBLAS */
#define ELEMENTWISE_MIN 32768.0 /* elements */

/* A host kernel's arguments and how many parts the pool runs it in. */
typedef struct {
    const void *args;
    int parts;
} split;

static float *operand(const operands *o, int which) {
    return o->slot[which] < 0 ? NULL : o->base[o->slot[which]] + o->offset[which];
}

/* d2v_erf of kernels/d2v.h, term for term (the same polynomials and fused multiply-adds; exp as
 * above), so that this epilogue's GELU agrees with the portable kernels' to a few ulp. */
static inline __attribute__((always_inline)) float d2v_erf(float x) {
    float z = fabsf(x), z2 = z * z;
    float small = 1.2055332e-4f;
    small = fmaf(small, z2, -8.5483270e-4f);
    small = fmaf(small, z2, 5.2239778e-3f);
    small = fmaf(small, z2, -2.6866172e-2f);
    small = fmaf(small, z2, 1.1283792e-1f);
    small = fmaf(small, z2, -3.7612638e-1f);
    small = fmaf(small, z2, 1.1283792f) * z;
    float t = 1.0f / fmaf(0.5f, z, 1.0f);
    float p = 1.4492863e-1f;
    p = fmaf(p, t, -6.8082184e-1f);
    p = fmaf(p, t, 1.1567287f);
    p = fmaf(p, t, -6.9625515e-1f);
    p = fmaf(p, t, -8.0269784e-2f);
    p = fmaf(p, t, 1.2578606e-3f);
    p = fmaf(p, t, 3.4607429e-2f);
    p = fmaf(p, t, 3.8663918e-1f);
    p = fmaf(p, t, 9.9863297e-1f);
    p = fmaf(p, t, -1.2654480f);
    float big = 1.0f - t * exp_vec(p - z2);
    float e = z < 0.5f ? small : big;
    return copysignf(e, x);
}

/* The epilogue over one row of n values: bias, then GELU into out (pre-activations stay in pre);
 * out == pre is allowed. Branch-free loops, compiled for AVX-512, AVX2 + FMA and plain x86-64 (the
 * CPU picks at load time): without FMA in the instruction set every fmaf is a slow library call. */
#define EPILOGUE_TARGETS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

EPILOGUE_TARGETS static void bias_row(float *row, const float *bias, int n) {
    for (int j = 0; j < n; j++) row[j] += bias[j];
}

EPILOGUE_TARGETS static void gelu_row(const float *pre, float *out, int n) {
    for (int j = 0; j < n; j++) {
        float v = pre[j];
        out[j] = 0.5f * v * (1.0f + d2v_erf(v * 0.70710678118654752f));
    }
}

/* dx (+)= dy · gelu'(x), gelu'(x) = Φ(x) + x·φ(x): d2v_gelu_grad of kernels/d2v.h. */
EPILOGUE_TARGETS static void gelu_grad_row(const float *x, const float *dy, float *dx, int n, int accumulate) {
    for (int j = 0; j < n; j++) {
        float v = x[j];
        float cdf = 0.5f * (1.0f + d2v_erf(v * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * exp_vec(-0.5f * v * v);
        float r = dy[j] * (cdf + v * pdf);
        dx[j] = accumulate ? dx[j] + r : r;
    }
}

static void gelu_part(void *ctx, int part) {
    const split *s = ctx;
    const gelu_args *g = s->args;
    const float *x = operand(&g->ops, OP_A), *dy = operand(&g->ops, OP_B);
    float *out = operand(&g->ops, OP_C);
    int64_t lo, hi;
    d2v_pool_range(g->n, s->parts, part, TILE, &lo, &hi);
    const int64_t chunk = 1 << 20;
    for (int64_t i = lo; i < hi; i += chunk) {
        int len = (int)(hi - i < chunk ? hi - i : chunk);
        if (g->backward) gelu_grad_row(x + i, dy + i, out + i, len, g->accumulate);
        else gelu_row(x + i, out + i, len);
    }
}

static void run_gelu(void *p) {
    const gelu_args *g = p;
    split s = {.args = g, .parts = d2v_pool_parts((double)g->n, ELEMENTWISE_MIN, (g->n + TILE - 1) / TILE)};
    d2v_pool_run(s.parts, gelu_part, &s);
}

/* Each column's sum in order over j, as reduce_middle, a row of c sums at a time (so the loop over
 * k vectorises); the sums live in a scratch row, then out (+)= alpha · sum. Rows [i0, i1) of the
 * outer dimension, columns [k0, k1). */
EPILOGUE_TARGETS static void reduce_middle(const reduce_args *g, int64_t i0, int64_t i1, int64_t k0, int64_t k1, float *sum) {
    const float *x = operand(&g->ops, OP_A);
    float *out = operand(&g->ops, OP_C);
    int64_t c = g->c;
    for (int64_t i = i0; i < i1; i++) {
        const float *xi = x + i * g->b * c;
        for (int64_t k = k0; k < k1; k++) sum[k] = 0.0f;
        for (int64_t j = 0; j < g->b; j++)
            for (int64_t k = k0; k < k1; k++) sum[k] += xi[j * c + k];
        float *o = out + i * c;
        for (int64_t k = k0; k < k1; k++) o[k] = g->accumulate ? o[k] + sum[k] * g->alpha : sum[k] * g->alpha;
    }
}

/* Split by outer rows when there are enough, else by blocks of columns: every column's sum keeps
 * its order over j, so the result does not depend on the split. */
static void reduce_part(void *ctx, int part) {
    const split *s = ctx;
    const reduce_args *g = s->args;
    float *sum = malloc(sizeof(float) * (size_t)g->c);
    if (sum == NULL) abort(); /* no way to report from a native kernel; one row of c floats */
    int64_t lo, hi;
    if (g->a >= s->parts) {
        d2v_pool_range(g->a, s->parts, part, 1, &lo, &hi);
        reduce_middle(g, lo, hi, 0, g->c, sum);
    } else {
        d2v_pool_range(g->c, s->parts, part, TILE, &lo, &hi);
        reduce_middle(g, 0, g->a, lo, hi, sum);
    }
    free(sum);
}

static void run_reduce(void *p) {
    const reduce_args *g = p;
    int64_t units = g->a >= d2v_pool_threads() ? g->a : (g->c + TILE - 1) / TILE;
    split s = {.args = g, .parts = d2v_pool_parts((double)g->a * g->b * g->c, ELEMENTWISE_MIN, units)};
    d2v_pool_run(s.parts, reduce_part, &s);
}

/* ---- LayerNorm: rows of dim values, sums in 16 lanes (so they vectorise without reassociating)
 * added in a fixed tree: deterministic, and within fp32 rounding of the portable kernels. */
#define LANES 16
static inline __attribute__((always_inline)) float lanes_total(const float *acc) {
    float t[8];
    for (int u = 0; u < 8; u++) t[u] = acc[u] + acc[u + 8];
    return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}

/* y = (x − mean)·rstd (·gamma) (+beta) over one row, specialised by constant flags at each call:
 * a null check inside the loop became AVX-512 masked loads from the null page, which an AMD Zen
 * core assists in microcode (LayerNorm without affine ran 20× slower there). */
static inline __attribute__((always_inline)) void ln_row_out(const float *xr, float *yr, int dim, float mu, float rs,
                                                             const float *gamma, const float *beta, int scaled, int shifted) {
    for (int j = 0; j < dim; j++) {
        float v = (xr[j] - mu) * rs;
        if (scaled) v *= gamma[j];
        if (shifted) v += beta[j];
        yr[j] = v;
    }
}

EPILOGUE_TARGETS static void ln_forward(const norm_args *g, int r0, int r1) {
    const operands *o = &g->ops;
    const float *x = operand(o, LN_X), *gamma = operand(o, LN_GAMMA), *beta = operand(o, LN_BETA);
    float *y = operand(o, LN_Y), *mean = operand(o, LN_MEAN), *rstd = operand(o, LN_RSTD);
    int dim = g->dim, body = dim - dim % LANES;
    for (int r = r0; r < r1; r++) {
        const float *xr = x + (int64_t)r * dim;
        float *yr = y + (int64_t)r * dim;
        float acc[LANES] = {0};
        for (int j = 0; j < body; j += LANES)
            for (int u = 0; u < LANES; u++) acc[u] += xr[j + u];
        for (int j = body; j < dim; j++) acc[0] += xr[j];
        float mu = lanes_total(acc) / (float)dim;
        float var[LANES] = {0};
        for (int j = 0; j < body; j += LANES)
            for (int u = 0; u < LANES; u++) var[u] = fmaf(xr[j + u] - mu, xr[j + u] - mu, var[u]);
        for (int j = body; j < dim; j++) var[0] = fmaf(xr[j] - mu, xr[j] - mu, var[0]);
        float rs = 1.0f / sqrtf(lanes_total(var) / (float)dim + g->eps); /* biased variance, as PyTorch */
        if (gamma != NULL && beta != NULL) ln_row_out(xr, yr, dim, mu, rs, gamma, beta, 1, 1);
        else if (gamma != NULL) ln_row_out(xr, yr, dim, mu, rs, gamma, NULL, 1, 0);
        else if (beta != NULL) ln_row_out(xr, yr, dim, mu, rs, NULL, beta, 0, 1);
        else ln_row_out(xr, yr, dim, mu, rs, NULL, NULL, 0, 0);
        mean[r] = mu;
        rstd[r] = rs;
    }
}

/* One row's dx (+)= rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma (dy when not scaled): the
 * flag is a constant at each call, for the reason ln_row_out gives. */
static inline __attribute__((always_inline)) void ln_row_dx(const float *xr, const float *dyr, float *dxr, int dim, float mu,
                                                            float rs, const float *gamma, int scaled, int accumulate) {
    int body = dim - dim % LANES;
    float ag[LANES] = {0}, agx[LANES] = {0};
    for (int j = 0; j < body; j += LANES)
        for (int u = 0; u < LANES; u++) {
            float gj = scaled ? dyr[j + u] * gamma[j + u] : dyr[j + u];
            ag[u] += gj;
            agx[u] = fmaf(gj, (xr[j + u] - mu) * rs, agx[u]);
        }
    for (int j = body; j < dim; j++) {
        float gj = scaled ? dyr[j] * gamma[j] : dyr[j];
        ag[0] += gj;
        agx[0] = fmaf(gj, (xr[j] - mu) * rs, agx[0]);
    }
    float meanG = lanes_total(ag) / (float)dim, meanGX = lanes_total(agx) / (float)dim;
    for (int j = 0; j < dim; j++) {
        float gj = scaled ? dyr[j] * gamma[j] : dyr[j];
        float v = rs * (gj - meanG - (xr[j] - mu) * rs * meanGX);
        dxr[j] = accumulate ? dxr[j] + v : v;
    }
}

/* Rows [r0, r1): dx (+)= rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma, x̂ = (x − mean)·rstd;
 * the rows' Σ dy·x̂ and Σ dy (dgamma's and dbeta's shares) into sums [2·dim], in row order. */
EPILOGUE_TARGETS static void ln_backward(const norm_args *g, int r0, int r1, float *sums) {
    const operands *o = &g->ops;
    const float *x = operand(o, LNB_X), *gamma = operand(o, LNB_GAMMA), *mean = operand(o, LNB_MEAN);
    const float *rstd = operand(o, LNB_RSTD), *dy = operand(o, LNB_DY);
    float *dx = operand(o, LNB_DX);
    int dim = g->dim;
    float *sg = sums, *sb = sums + dim;
    for (int j = 0; j < 2 * dim; j++) sums[j] = 0.0f;
    for (int r = r0; r < r1; r++) {
        const float *xr = x + (int64_t)r * dim, *dyr = dy + (int64_t)r * dim;
        float mu = mean[r], rs = rstd[r];
        if (dx != NULL) {
            float *dxr = dx + (int64_t)r * dim;
            if (gamma != NULL) ln_row_dx(xr, dyr, dxr, dim, mu, rs, gamma, 1, g->accumulate);
            else ln_row_dx(xr, dyr, dxr, dim, mu, rs, NULL, 0, g->accumulate);
        }
        for (int j = 0; j < dim; j++) {
            sg[j] = fmaf(dyr[j], (xr[j] - mu) * rs, sg[j]);
            sb[j] += dyr[j];
        }
    }
}

/* LayerNorm over the pool: blocks of rows; backward, each part sums its rows' dgamma and dbeta
 * shares in its own scratch, and they are added in part order after the run (a fixed order for
 * a given row count and thread count; one part sums every row in order, as before the pool). */
typedef struct {
    const norm_args *g;
    int parts;
    float *sums; /* backward: 2·dim per part */
} norm_split;

static void norm_part(void *ctx, int part) {
    const norm_split *s = ctx;
    int64_t lo, hi;
    d2v_pool_range(s->g->rows, s->parts, part, 1, &lo, &hi);
    if (s->g->backward) ln_backward(s->g, (int)lo, (int)hi, s->sums + (int64_t)part * 2 * s->g->dim);
    else ln_forward(s->g, (int)lo, (int)hi);
}

static void run_norm(void *p) {
    const norm_args *g = p;
    norm_split s = {.g = g, .parts = d2v_pool_parts((double)g->rows * g->dim, ELEMENTWISE_MIN, g->rows)};
    if (g->backward) {
        s.sums = malloc(sizeof(float) * 2 * (size_t)g->dim * (size_t)s.parts);
        if (s.sums == NULL) abort(); /* no way to report from a native kernel; 8 KB per part at d2v's sizes */
    }
    d2v_pool_run(s.parts, norm_part, &s);
    if (!g->backward) return;
    float *dgamma = operand(&g->ops, LNB_DGAMMA), *dbeta = operand(&g->ops, LNB_DBETA);
    int dim = g->dim;
    for (int part = 1; part < s.parts; part++) {
        float *first = s.sums, *more = s.sums + (int64_t)part * 2 * dim;
        for (int j = 0; j < 2 * dim; j++) first[j] += more[j];
    }
    if (dgamma != NULL)
        for (int j = 0; j < dim; j++) dgamma[j] += s.sums[j];
    if (dbeta != NULL)
        for (int j = 0; j < dim; j++) dbeta[j] += s.sums[dim + j];
    free(s.sums);
}

static void run_attention(void *p) {
    const attention_args *a = p;
    const operands *o = &a->ops;
    attention_tensors t = {
        .qkv = operand(o, AT_QKV), .slopes = operand(o, AT_SLOPES), .ascale = operand(o, AT_ASCALE),
        .out = operand(o, AT_OUT), .dout = operand(o, AT_DOUT), .lse = operand(o, AT_LSE),
        .pos = (const int32_t *)operand(o, AT_POS), .pad = (const int32_t *)operand(o, AT_PAD),
        .out_w = operand(o, AT_OUT), .lse_w = operand(o, AT_LSE), .dqkv = operand(o, AT_DQKV), .dscale = operand(o, AT_DSCALE),
    };
    int rc = a->backward ? d2v_attention_backward(&a->d, &t) : d2v_attention_forward(&a->d, &t);
    if (rc != 0) abort(); /* scratch of a few KB per (batch, head) not allocated; no way to report from a native kernel */
}

/* ---- normal(): Philox4x32-10 and Box–Muller, as kernels/random.cl, vectorised on the host. */

/* ln x for normal positive floats, branch-free: x = m·2^e with m in [√½, √2), ln(1 + f) by the
 * degree-9 minimax polynomial of Cephes' logf, ln 2 split so that e·ln 2 adds exactly (~1 ulp). */
static inline __attribute__((always_inline)) float log_vec(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t e = (int32_t)((bits >> 23) & 0xffu) - 126;
    uint32_t mbits = (bits & 0x007fffffu) | 0x3f000000u;
    float m;
    memcpy(&m, &mbits, sizeof m); /* [0.5, 1) */
    int32_t low = m < 0.70710678118654752f;
    e -= low;
    float f = (low ? m + m : m) - 1.0f;
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = fmaf(p, f, -1.1514610310e-1f);
    p = fmaf(p, f, 1.1676998740e-1f);
    p = fmaf(p, f, -1.2420140846e-1f);
    p = fmaf(p, f, 1.4249322787e-1f);
    p = fmaf(p, f, -1.6668057665e-1f);
    p = fmaf(p, f, 2.0000714765e-1f);
    p = fmaf(p, f, -2.4999993993e-1f);
    p = fmaf(p, f, 3.3333331174e-1f);
    float fe = (float)e;
    float y = p * f * z;
    y = fmaf(fe, -2.12194440e-4f, y);
    y = fmaf(-0.5f, z, y);
    return fmaf(fe, 0.693359375f, f + y);
}

/* cos(π x) for x in [0, 2): reflected onto [-1/4, 1/4] turns (exactly: multiples of 1/2 are
 * exact in float), then Cephes' minimax polynomials of sin and cos there (~1 ulp). */
static inline __attribute__((always_inline)) float cospi_vec(float x) {
    float q = rintf(x * 2.0f);               /* nearest quarter turn, 0..4 */
    float r = fmaf(q, -0.5f, x);             /* x - q/2, exact, in [-1/4, 1/4] */
    int32_t quadrant = (int32_t)q & 3;
    float t = r * 3.14159265358979323846f, t2 = t * t;
    float c = fmaf(fmaf(fmaf(2.443315711809948e-5f, t2, -1.388731625493765e-3f), t2, 4.166664568298827e-2f), t2 * t2,
                   fmaf(-0.5f, t2, 1.0f));
    float s = fmaf(fmaf(fmaf(-1.9515295891e-4f, t2, 8.3321608736e-3f), t2, -1.6666654611e-1f), t2 * t, t);
    /* cos(π(q/2 + r)) for q = 0, 1, 2, 3: cos, -sin, -cos, sin of πr */
    float v = (quadrant & 1) ? s : c;
    return (quadrant == 1 || quadrant == 2) ? -v : v;
}

static inline __attribute__((always_inline)) float box_muller(uint32_t a, uint32_t b) {
    float u1 = (float)((a >> 8) + 1u) * 5.9604644775390625e-8f; /* (0, 1]: never subnormal */
    float u2 = (float)(b >> 8) * 5.9604644775390625e-8f;
    return sqrtf(-2.0f * log_vec(u1)) * cospi_vec(2.0f * u2);
}

/* Blocks [0, blocks): out[2b], out[2b + 1]. One straight loop body, so that it vectorises. */
EPILOGUE_TARGETS static void normal_blocks(float *out, int64_t blocks, uint64_t seed, uint64_t offset, float mean, float std) {
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t w0, w1, w2, w3;
        uint64_t block = offset + (uint64_t)b;
        PHILOX(block, seed, w0, w1, w2, w3);
        out[2 * b] = mean + std * box_muller(w0, w1);
        out[2 * b + 1] = mean + std * box_muller(w2, w3);
    }
}

/* Blocks of the stream over the pool: each element's value depends only on its index. */
static void normal_part(void *ctx, int part) {
    const split *s = ctx;
    const normal_args *g = s->args;
    int64_t lo, hi;
    d2v_pool_range(g->n / 2, s->parts, part, TILE, &lo, &hi);
    normal_blocks(operand(&g->ops, OP_C) + 2 * lo, hi - lo, g->seed, g->offset + (uint64_t)lo, g->mean, g->std);
}

static void run_normal(void *p) {
    const normal_args *g = p;
    float *out = operand(&g->ops, OP_C);
    int64_t whole = g->n / 2;
    split s = {.args = g, .parts = d2v_pool_parts((double)g->n, ELEMENTWISE_MIN, (whole + TILE - 1) / TILE)};
    d2v_pool_run(s.parts, normal_part, &s);
    if (g->n % 2 != 0) { /* the last element: word (0, 1) of the last block */
        uint32_t w0, w1, w2, w3;
        uint64_t block = g->offset + (uint64_t)whole;
        PHILOX(block, g->seed, w0, w1, w2, w3);
        (void)w2, (void)w3;
        out[2 * whole] = g->mean + g->std * box_muller(w0, w1);
    }
}

/* Blocks [b0, b1) of the dropout stream: elements 4b .. 4b + 3, cut at n. */
EPILOGUE_TARGETS static void dropout_blocks(const float *x, float *y, int64_t b0, int64_t b1, int64_t n, uint64_t seed,
                                            uint64_t offset, uint32_t threshold, float scale, int accumulate) {
    for (int64_t b = b0; b < b1; b++) {
        uint32_t w[4];
        uint64_t block = offset + (uint64_t)b;
        PHILOX(block, seed, w[0], w[1], w[2], w[3]);
        for (int q = 0; q < 4; q++) {
            int64_t e = 4 * b + q;
            if (e >= n) break;
            float v = w[q] >= threshold ? x[e] * scale : 0.0f;
            y[e] = accumulate ? y[e] + v : v;
        }
    }
}

static void dropout_part(void *ctx, int part) {
    const split *s = ctx;
    const dropout_args *g = s->args;
    int64_t lo, hi;
    d2v_pool_range((g->n + 3) / 4, s->parts, part, TILE, &lo, &hi);
    dropout_blocks(operand(&g->ops, OP_A), operand(&g->ops, OP_C), lo, hi, g->n, g->seed, g->offset, g->threshold, g->scale,
                   g->accumulate);
}

static void run_dropout(void *p) {
    const dropout_args *g = p;
    int64_t blocks = (g->n + 3) / 4;
    split s = {.args = g, .parts = d2v_pool_parts((double)g->n, ELEMENTWISE_MIN, (blocks + TILE - 1) / TILE)};
    d2v_pool_run(s.parts, dropout_part, &s);
}

/* Elements [lo, hi) of the AdamW step, in optim.cl's order of operations. */
EPILOGUE_TARGETS static void adamw_range(const adamw_args *a, int64_t lo, int64_t hi) {
    float *restrict p = operand(&a->ops, OP_A), *restrict m = operand(&a->ops, OP_BIAS), *restrict v = operand(&a->ops, OP_C);
    const float *restrict g = operand(&a->ops, OP_B), *scale = operand(&a->ops, OP_PREACT);
    const float s = scale == NULL ? 1.0f : scale[0];
    const float b1 = a->beta1, c1 = a->one_minus_beta1, b2 = a->beta2, c2 = a->one_minus_beta2;
    const float eps = a->eps, decay = a->decay, step = a->step_size;
    for (int64_t i = lo; i < hi; i++) {
        float gr = g[i] * s;
        float mi = b1 * m[i] + c1 * gr;
        float vi = b2 * v[i] + c2 * gr * gr;
        float pi = p[i];
        pi -= decay * pi;
        pi -= step * mi / (sqrtf(vi) + eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = pi;
    }
}

static void adamw_part(void *ctx, int part) {
    const split *s = ctx;
    const adamw_args *a = s->args;
    int64_t lo, hi;
    d2v_pool_range(a->n, s->parts, part, TILE, &lo, &hi);
    adamw_range(a, lo, hi);
}

static void run_adamw(void *p) {
    const adamw_args *a = p;
    split s = {.args = a, .parts = d2v_pool_parts((double)a->n, ELEMENTWISE_MIN, (a->n + TILE - 1) / TILE)};
    d2v_pool_run(s.parts, adamw_part, &s);
}

/* One block of one batch entry: rows [r0, r1) and columns [c0, c1) of C, with its epilogue. A
 * block is a product of its own (sub-matrices of A, B and C with the full leading dimensions), so
 * every element is still one dot product over k in OpenBLAS's order for that block's shape. */
static void gemm_block(const gemm_args *g, int q, int r0, int r1, int c0, int c1) {
    int m = g->m, n = g->n, k = g->k;
    int lda = g->trans_a ? m : k, ldb = g->trans_b ? k : n;
    if (r0 >= r1 || c0 >= c1) return;
    const float *a = operand(&g->ops, OP_A) + (int64_t)q * g->stride_a + (g->trans_a ? r0 : (int64_t)r0 * lda);
    const float *b = operand(&g->ops, OP_B) + (int64_t)q * g->stride_b + (g->trans_b ? (int64_t)c0 * ldb : c0);
    const float *bias = g->has_bias ? operand(&g->ops, OP_BIAS) + c0 : NULL;
    int64_t at = (int64_t)q * g->stride_c + (int64_t)r0 * n + c0;
    float *c = operand(&g->ops, OP_C) + at;
    /* With GELU the product goes to the pre-activation (when kept) and GELU reads it from there. */
    float *dst = g->gelu && g->has_preact ? operand(&g->ops, OP_PREACT) + at : c;
    blas.sgemm(CBLAS_ROW_MAJOR, g->trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, g->trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS,
               r1 - r0, c1 - c0, k, 1.0f, a, lda, b, ldb, g->accumulate ? 1.0f : 0.0f, dst, n);
    if (!g->has_bias && !g->gelu) return;
    for (int i = 0; i < r1 - r0; i++) {
        float *row = dst + (int64_t)i * n;
        if (g->has_bias) bias_row(row, bias, c1 - c0);
        if (g->gelu) gelu_row(row, c + (int64_t)i * n, c1 - c0);
    }
}

/* How a GEMM is cut over the pool: by batch entries when there are enough, else by blocks of 16
 * rows or columns of C (whichever dimension is longer; 16 is OpenBLAS's register tile). */
typedef struct {
    const gemm_args *g;
    int parts, by; /* 0: batch entries, 1: rows, 2: columns */
} gemm_split;

static void gemm_part(void *ctx, int part) {
    const gemm_split *s = ctx;
    const gemm_args *g = s->g;
    int64_t lo, hi;
    if (s->by == 0) {
        d2v_pool_range(g->batch, s->parts, part, 1, &lo, &hi);
        for (int64_t q = lo; q < hi; q++) gemm_block(g, (int)q, 0, g->m, 0, g->n);
    } else if (s->by == 1) {
        d2v_pool_range(g->m, s->parts, part, TILE, &lo, &hi);
        for (int q = 0; q < g->batch; q++) gemm_block(g, q, (int)lo, (int)hi, 0, g->n);
    } else {
        d2v_pool_range(g->n, s->parts, part, TILE, &lo, &hi);
        for (int q = 0; q < g->batch; q++) gemm_block(g, q, 0, g->m, (int)lo, (int)hi);
    }
}

static void run_gemm(void *p) {
    const gemm_args *g = p;
    double flops = 2.0 * g->m * g->n * (double)g->k * g->batch;
    gemm_split s = {.g = g, .by = g->m >= g->n ? 1 : 2};
    int64_t units = (s.by == 1 ? g->m + TILE - 1 : g->n + TILE - 1) / TILE;
    if (g->batch >= d2v_pool_threads()) s.by = 0, units = g->batch;
    s.parts = d2v_pool_parts(flops, GEMM_MIN_FLOPS, units);
    d2v_pool_run(s.parts, gemm_part, &s);
}

/* The convolution as GEMMs over im2col columns, one group at a time: column row m is output pixel
 * (b, oh, ow), column entry kk the tap (kh, kw, c) of that group's input channels (zero where
 * the tap falls in the padding), which is the layout of a filter row of w [outC, kH, kW, inC/g].
 * The columns live in a scratch block of this call (M × K floats). */
typedef struct {
    int64_t rows;  /* M = batch · outH · outW */
    int64_t taps;  /* K = kH · kW · inC/groups */
    int out_h, out_w, in_per_group, out_per_group;
} conv_shape;

static conv_shape conv_shape_of(const conv_args *c) {
    conv_shape s;
    s.out_h = (c->in_h + 2 * c->pad_h - c->k_h) / c->stride_h + 1;
    s.out_w = (c->in_w + 2 * c->pad_w - c->k_w) / c->stride_w + 1;
    s.in_per_group = c->in_c / c->groups;
    s.out_per_group = c->out_c / c->groups;
    s.rows = (int64_t)c->batch * s.out_h * s.out_w;
    s.taps = (int64_t)c->k_h * c->k_w * s.in_per_group;
    return s;
}

/* col[m][kk] = x[b, ih, iw, group·inPerGroup + ci] (0 in the padding). */
/* dst[0, n) = src[0, n), or zeros where src is null: a tap's channels of one group, a few dozen
 * floats, copied in fixed-size chunks the compiler inlines (a memcpy call per tap was a third of
 * im2col's time at the decoder's 24 channels a group). */
static inline __attribute__((always_inline)) void copy_floats(float *dst, const float *src, int n) {
    static const float zeros[16];
    int j = 0;
    for (; j + 16 <= n; j += 16) memcpy(dst + j, src != NULL ? src + j : zeros, 16 * sizeof(float));
    for (; j + 4 <= n; j += 4) memcpy(dst + j, src != NULL ? src + j : zeros, 4 * sizeof(float));
    for (; j < n; j++) dst[j] = src != NULL ? src[j] : 0.0f;
}

/* (no-tree-loop-distribute-patterns: GCC would turn the zero tails back into memset calls) */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void im2col(const conv_args *c, const conv_shape *s, const float *x, int group, float *col) {
    int cg = s->in_per_group;
    for (int64_t m = 0; m < s->rows; m++) {
        int ow = (int)(m % s->out_w), oh = (int)((m / s->out_w) % s->out_h), b = (int)(m / ((int64_t)s->out_w * s->out_h));
        float *row = col + m * s->taps;
        for (int kh = 0; kh < c->k_h; kh++) {
            int ih = oh * c->stride_h - c->pad_h + kh;
            for (int kw = 0; kw < c->k_w; kw++) {
                int iw = ow * c->stride_w - c->pad_w + kw;
                float *dst = row + ((int64_t)kh * c->k_w + kw) * cg;
                if (ih < 0 || ih >= c->in_h || iw < 0 || iw >= c->in_w) {
                    copy_floats(dst, NULL, cg);
                } else {
                    copy_floats(dst, x + (((int64_t)b * c->in_h + ih) * c->in_w + iw) * c->in_c + (int64_t)group * cg, cg);
                }
            }
        }
    }
}

/* dx[b, ih, iw, group·inPerGroup + ci] += col[m][kk] over every (m, kk) that reads it. */
static void col2im_add(const conv_args *c, const conv_shape *s, const float *col, int group, float *dx) {
    int cg = s->in_per_group;
    for (int64_t m = 0; m < s->rows; m++) {
        int ow = (int)(m % s->out_w), oh = (int)((m / s->out_w) % s->out_h), b = (int)(m / ((int64_t)s->out_w * s->out_h));
        const float *row = col + m * s->taps;
        for (int kh = 0; kh < c->k_h; kh++) {
            int ih = oh * c->stride_h - c->pad_h + kh;
            if (ih < 0 || ih >= c->in_h) continue;
            for (int kw = 0; kw < c->k_w; kw++) {
                int iw = ow * c->stride_w - c->pad_w + kw;
                if (iw < 0 || iw >= c->in_w) continue;
                const float *src = row + ((int64_t)kh * c->k_w + kw) * cg;
                float *dst = dx + (((int64_t)b * c->in_h + ih) * c->in_w + iw) * c->in_c + (int64_t)group * cg;
                for (int ci = 0; ci < cg; ci++) dst[ci] += src[ci];
            }
        }
    }
}

/* The passes of groups [g0, g1) (disjoint parts of the output: a group's output channels, its
 * input channels of dx, its filters of dw), with their own columns (M × K floats). */
typedef struct {
    const conv_args *c;
    conv_shape s;
    int parts;
} conv_split;

static void conv_groups(void *ctx, int part) {
    const conv_split *cs = ctx;
    const conv_args *c = cs->c;
    const conv_shape *s = &cs->s;
    const float *a = operand(&c->ops, OP_A), *b = operand(&c->ops, OP_B);
    float *out = operand(&c->ops, OP_C);
    int ocg = s->out_per_group;
    int64_t m_rows = s->rows, taps = s->taps, g0, g1;
    d2v_pool_range(c->groups, cs->parts, part, 1, &g0, &g1);
    if (g0 >= g1) return;
    /* One group's columns; the forward of a single-group convolution whose columns are the input
     * itself (1×1 kernel, stride 1, no padding) could skip it, none of d2v's models has one. */
    float *col = malloc(sizeof(float) * (size_t)(m_rows * taps));
    if (col == NULL) abort(); /* no way to report from a native kernel; a few MB at d2v's sizes */
    for (int g = (int)g0; g < (int)g1; g++) {
        const float *wg = b + (int64_t)g * ocg * taps;
        switch (c->pass) {
        case CONV_FORWARD: /* y[:, g] = col · w_gᵀ (+ bias) */
            im2col(c, s, a, g, col);
            blas.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, (int)m_rows, ocg, (int)taps, 1.0f, col, (int)taps, wg,
                       (int)taps, 0.0f, out + (int64_t)g * ocg, c->out_c);
            break;
        case CONV_BACKWARD_INPUT: /* dcol = dy[:, g] · w_g, scattered back onto dx */
            blas.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, (int)m_rows, (int)taps, ocg, 1.0f, a + (int64_t)g * ocg,
                       c->out_c, wg, (int)taps, 0.0f, col, (int)taps);
            col2im_add(c, s, col, g, out);
            break;
        case CONV_BACKWARD_WEIGHT: /* dw_g += dy[:, g]ᵀ · col */
            im2col(c, s, a, g, col);
            blas.sgemm(CBLAS_ROW_MAJOR, CBLAS_TRANS, CBLAS_NO_TRANS, ocg, (int)taps, (int)m_rows, 1.0f, b + (int64_t)g * ocg,
                       c->out_c, col, (int)taps, 1.0f, out + (int64_t)g * ocg * taps, (int)taps);
            break;
        }
    }
    free(col);
}

/* Groups run in parallel over the pool (each group's sums are the same whichever thread runs it:
 * the result does not depend on the thread count); the zeroing of dx and the bias sums, in order. */
static void run_conv(void *p) {
    const conv_args *c = p;
    conv_split cs = {.c = c, .s = conv_shape_of(c)};
    const float *b = operand(&c->ops, OP_B);
    float *bias = operand(&c->ops, OP_BIAS), *out = operand(&c->ops, OP_C);
    int64_t m_rows = cs.s.rows;
    if (c->pass == CONV_BACKWARD_INPUT && !c->accumulate) {
        for (int64_t i = 0; i < (int64_t)c->batch * c->in_h * c->in_w * c->in_c; i++) out[i] = 0.0f;
    }
    cs.parts = d2v_pool_parts(2.0 * (double)m_rows * cs.s.taps * c->out_c, GEMM_MIN_FLOPS, c->groups);
    d2v_pool_run(cs.parts, conv_groups, &cs);
    if (bias == NULL) return;
    if (c->pass == CONV_FORWARD) {
        for (int64_t m = 0; m < m_rows; m++) bias_row(out + m * c->out_c, bias, c->out_c);
    } else if (c->pass == CONV_BACKWARD_WEIGHT) { /* dbias += Σ over output pixels of dy, in order */
        for (int64_t m = 0; m < m_rows; m++) bias_row(bias, b + m * c->out_c, c->out_c);
    }
}

#define SYM(field, symbol) (blas.field = (void *)d2v_symbol(lib, loaded, symbol, reason, sizeof reason))

/* OpenBLAS built for many CPUs (DYNAMIC_ARCH, as Debian ships it) picks its kernels from the CPU
 * model when it loads; an older release that does not know the model (0.3.21 and Sapphire Rapids)
 * falls back to its slowest generic kernels, ~5x slower, and an OPENBLAS_CORETYPE inherited from the
 * environment can pin a slower family than the CPU runs (Haswell's AVX2 kernels on an AVX-512 Zen 4
 * took twice as long at the step's shapes). mode (d2v.openblas.coretype): "auto" names the newest
 * family whose instructions this CPU has, in place of any inherited value (kept in blas.inherited
 * for the description); "env" leaves a set OPENBLAS_CORETYPE alone and otherwise acts as "auto";
 * anything else is the family to use. A build for one CPU ignores it all. */
static void choose_core_type(const char *mode) {
    const char *set = getenv("OPENBLAS_CORETYPE");
    blas.inherited[0] = '\0';
    if (set != NULL && strcmp(mode, "env") == 0) return;
    const char *want = mode;
    if (strcmp(mode, "auto") == 0 || strcmp(mode, "env") == 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) want = "SKYLAKEX";
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) want = "HASWELL";
        else want = NULL;
    }
    if (set != NULL && (want == NULL || strcasecmp(set, want) != 0)) snprintf(blas.inherited, sizeof blas.inherited, "%s", set);
    if (want != NULL) setenv("OPENBLAS_CORETYPE", want, 1);
    else if (set != NULL) unsetenv("OPENBLAS_CORETYPE"); /* no family fits better: OpenBLAS's own choice */
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_OpenBlas_nativeLoad(JNIEnv *env, jclass cls, jobjectArray blas_names,
                                                                jobjectArray opencl_names, jstring jcore_mode) {
    (void)cls;
    if (blas.blas != NULL) return NULL; /* once per process: OpenBLAS cannot be unloaded safely */
    char reason[2048], loaded[256], cl_loaded[256];
    void *cl = d2v_open_first(env, opencl_names, cl_loaded, sizeof cl_loaded, reason, sizeof reason);
    if (cl == NULL) return (*env)->NewStringUTF(env, reason);
    reason[0] = '\0';
    blas.enqueue_native = (clEnqueueNativeKernel_fn)d2v_symbol(cl, cl_loaded, "clEnqueueNativeKernel", reason, sizeof reason);
    if (blas.enqueue_native == NULL) return (*env)->NewStringUTF(env, reason);
    const char *core_mode = (*env)->GetStringUTFChars(env, jcore_mode, NULL);
    if (core_mode == NULL) return NULL; /* OutOfMemoryError pending */
    choose_core_type(core_mode);
    (*env)->ReleaseStringUTFChars(env, jcore_mode, core_mode);
    void *lib = d2v_open_first(env, blas_names, loaded, sizeof loaded, reason, sizeof reason);
    if (lib == NULL) return (*env)->NewStringUTF(env, reason);
    reason[0] = '\0';
    SYM(sgemm, "cblas_sgemm");
    if (reason[0] != '\0') {
        dlclose(lib);
        return (*env)->NewStringUTF(env, reason);
    }
    blas.set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
    blas.get_threads = (get_threads_fn)dlsym(lib, "openblas_get_num_threads");
    blas.corename = (get_text_fn)dlsym(lib, "openblas_get_corename");
    blas.config = (get_text_fn)dlsym(lib, "openblas_get_config");
    snprintf(blas.name, sizeof blas.name, "%s", loaded);
    blas.opencl = cl;
    blas.blas = lib;
    return NULL;
}

/* "libopenblas.so.0: OpenBLAS 0.3.21 DYNAMIC_ARCH ... (kernels SkylakeX, 1 thread)" */
JNIEXPORT jstring JNICALL Java_org_d2v_jni_OpenBlas_nativeDescribe(JNIEnv *env, jclass cls) {
    (void)cls;
    if (blas.blas == NULL) return NULL;
    char text[1024];
    int threads = blas.get_threads != NULL ? blas.get_threads() : -1;
    int at = snprintf(text, sizeof text, "%s: %s (kernels %s, %d thread%s)", blas.name, blas.config != NULL ? blas.config() : "cblas",
                      blas.corename != NULL ? blas.corename() : "unknown", threads, threads == 1 ? "" : "s");
    if (blas.inherited[0] != '\0' && at > 0 && at < (int)sizeof text)
        snprintf(text + at, sizeof text - (size_t)at, "; OPENBLAS_CORETYPE=%s from the environment set aside (d2v.openblas.coretype=env keeps it)",
                 blas.inherited);
    return (*env)->NewStringUTF(env, text);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_OpenBlas_nativeSetThreads(JNIEnv *env, jclass cls, jint threads) {
    (void)env;
    (void)cls;
    if (blas.set_threads != NULL && threads > 0) blas.set_threads(threads);
}

/* The host kernels' worker pool (host_pool.h): threads (caller included), the scale of every
 * split threshold (0 splits whatever can be split) and the idle spin before sleeping. */
JNIEXPORT void JNICALL Java_org_d2v_jni_OpenBlas_nativeSetHostThreads(JNIEnv *env, jclass cls, jint threads, jdouble split_scale,
                                                                       jlong spin_ns) {
    (void)env;
    (void)cls;
    d2v_pool_set_threads(threads);
    d2v_pool_set_split_scale(split_scale);
    d2v_pool_set_spin_ns(spin_ns);
}

JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeHostThreads(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return d2v_pool_threads();
}

JNIEXPORT jlong JNICALL Java_org_d2v_jni_OpenBlas_nativePoolJobs(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return d2v_pool_jobs();
}

/* Fills o from Java's buffers (up to OPERANDS) (raw cl_mem, 0 where absent), their creation order and their
 * element offsets, and lists the distinct buffers in creation order for clEnqueueNativeKernel
 * (see the operands comment above). Returns how many there are, or -1 with an exception pending. */
static int collect_operands(JNIEnv *env, jlongArray jmems, jlongArray jorder, jlongArray joffsets, operands *o,
                            cl_mem *list, const void **where) {
    jlong mems[OPERANDS], order[OPERANDS], offsets[OPERANDS];
    jsize given = (*env)->GetArrayLength(env, jmems);
    if (given < 1 || given > OPERANDS || (*env)->GetArrayLength(env, jorder) != given
            || (*env)->GetArrayLength(env, joffsets) < given) {
        d2v_throw(env, "java/lang/IllegalArgumentException", "openblas: expected up to %d buffers, their order and offsets", OPERANDS);
        return -1;
    }
    (*env)->GetLongArrayRegion(env, jmems, 0, given, mems);
    (*env)->GetLongArrayRegion(env, jorder, 0, given, order);
    (*env)->GetLongArrayRegion(env, joffsets, 0, given, offsets);
    for (int i = given; i < OPERANDS; i++) mems[i] = 0, order[i] = 0, offsets[i] = 0;
    jlong list_order[OPERANDS];
    int count = 0;
    for (int i = 0; i < OPERANDS; i++) {
        o->offset[i] = offsets[i];
        if (mems[i] == 0) continue;
        cl_mem mem = (cl_mem)(intptr_t)mems[i];
        int seen = 0;
        for (int u = 0; u < count; u++) seen |= list[u] == mem;
        if (seen) continue;
        int at = count++; /* insertion sort by creation order: a handful */
        while (at > 0 && list_order[at - 1] > order[i]) {
            list[at] = list[at - 1];
            list_order[at] = list_order[at - 1];
            at--;
        }
        list[at] = mem;
        list_order[at] = order[i];
    }
    for (int u = 0; u < count; u++) {
        o->base[u] = (float *)list[u]; /* the handle stands in until OpenCL substitutes the address */
        where[u] = &o->base[u];
    }
    for (int i = 0; i < OPERANDS; i++) {
        o->slot[i] = -1;
        for (int u = 0; u < count; u++) {
            if (mems[i] != 0 && list[u] == (cl_mem)(intptr_t)mems[i]) o->slot[i] = u;
        }
    }
    return count;
}

/* Queues one GEMM (all batch entries) as a native kernel; returns the OpenCL status. mems: A, B,
 * bias, C, preact (0 where absent); dims: m n k transA transB batch hasBias gelu hasPreact
 * accumulate; offsets: ao bo biaso co po strideA strideB strideC (elements). */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueGemm(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                    jlongArray jorder, jintArray jdims, jlongArray joffsets) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    jint dims[10];
    jlong offsets[8];
    if ((*env)->GetArrayLength(env, jdims) != 10 || (*env)->GetArrayLength(env, joffsets) != 8) {
        return d2v_throw(env, "java/lang/IllegalArgumentException", "openblas: expected 10 dimensions and 8 offsets");
    }
    (*env)->GetIntArrayRegion(env, jdims, 0, 10, dims);
    (*env)->GetLongArrayRegion(env, joffsets, 0, 8, offsets);
    gemm_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    g.m = dims[0], g.n = dims[1], g.k = dims[2], g.trans_a = dims[3], g.trans_b = dims[4], g.batch = dims[5];
    g.has_bias = dims[6], g.gelu = dims[7], g.has_preact = dims[8], g.accumulate = dims[9];
    g.stride_a = offsets[5], g.stride_b = offsets[6], g.stride_c = offsets[7];
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_gemm, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues one convolution pass as a native kernel; returns the OpenCL status. mems and offsets as
 * for the GEMM (see conv_args for which operand is which); dims: pass batch inC outC inH inW kH kW
 * strideH strideW padH padW groups accumulate. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueConv(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                    jlongArray jorder, jintArray jdims, jlongArray joffsets) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    jint dims[14];
    if ((*env)->GetArrayLength(env, jdims) != 14) return d2v_throw(env, "java/lang/IllegalArgumentException", "openblas: expected 14 dimensions");
    (*env)->GetIntArrayRegion(env, jdims, 0, 14, dims);
    conv_args c;
    memset(&c, 0, sizeof c);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &c.ops, list, where);
    if (count < 0) return 0;
    c.pass = dims[0], c.batch = dims[1], c.in_c = dims[2], c.out_c = dims[3], c.in_h = dims[4], c.in_w = dims[5];
    c.k_h = dims[6], c.k_w = dims[7], c.stride_h = dims[8], c.stride_w = dims[9], c.pad_h = dims[10], c.pad_w = dims[11];
    c.groups = dims[12], c.accumulate = dims[13];
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_conv, &c, sizeof c, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues normal() over n elements as a native kernel (see normal_args); returns the OpenCL
 * status. mems, order, offsets as for the GEMM (only C, the output, is present). */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueNormal(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                      jlongArray jorder, jlongArray joffsets, jlong n, jfloat mean,
                                                                      jfloat std, jlong seed, jlong offset) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    normal_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    g.n = n, g.mean = mean, g.std = std, g.seed = (uint64_t)seed, g.offset = (uint64_t)offset;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_normal, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues dropout (forward, or backward with accumulate) over n elements as a native kernel (see
 * dropout_args); returns the OpenCL status. mems, order, offsets as for the GEMM (A = x, C = y). */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueDropout(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                       jlongArray jorder, jlongArray joffsets, jlong n, jint threshold,
                                                                       jfloat scale, jlong seed, jlong offset, jboolean accumulate) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    dropout_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    g.n = n, g.threshold = (uint32_t)threshold, g.scale = scale, g.seed = (uint64_t)seed, g.offset = (uint64_t)offset;
    g.accumulate = accumulate ? 1 : 0;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_dropout, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues an AdamW step over n fp32 masters as a native kernel (see adamw_args); returns the OpenCL
 * status. mems, order, offsets as for the GEMM (p, g, m, v, the gradient scale or 0); hyper: beta1,
 * 1 − beta1, beta2, 1 − beta2, eps, lr · wd, the bias-corrected step size. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueAdamw(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                     jlongArray jorder, jlongArray joffsets, jlong n,
                                                                     jfloatArray jhyper) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    if ((*env)->GetArrayLength(env, jhyper) != 7) return d2v_throw(env, "java/lang/IllegalArgumentException", "adamw: 7 hyperparameters");
    adamw_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    float h[7];
    (*env)->GetFloatArrayRegion(env, jhyper, 0, 7, h);
    g.n = n, g.beta1 = h[0], g.one_minus_beta1 = h[1], g.beta2 = h[2], g.one_minus_beta2 = h[3];
    g.eps = h[4], g.decay = h[5], g.step_size = h[6];
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_adamw, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues GELU forward or backward over n elements as a native kernel (see gelu_args); returns the
 * OpenCL status. mems, order, offsets as for the GEMM. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueGelu(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                    jlongArray jorder, jlongArray joffsets, jlong n,
                                                                    jboolean backward, jboolean accumulate) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    gelu_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    g.n = n, g.backward = backward ? 1 : 0, g.accumulate = accumulate ? 1 : 0;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_gelu, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues LayerNorm forward or backward as a native kernel (see norm_args); returns the OpenCL
 * status. mems, order, offsets: the operands in norm_args' order, 0 where absent. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueLayerNorm(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                         jlongArray jorder, jlongArray joffsets, jint rows, jint dim,
                                                                         jfloat eps, jboolean backward, jboolean accumulate) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    norm_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    g.rows = rows, g.dim = dim, g.eps = eps, g.backward = backward ? 1 : 0, g.accumulate = accumulate ? 1 : 0;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_norm, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues reduceMiddle as a native kernel (see reduce_args); returns the OpenCL status. mems,
 * order, offsets: x, out. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueReduceMiddle(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                            jlongArray jorder, jlongArray joffsets, jint a, jint b, jint c,
                                                                            jfloat alpha, jboolean accumulate) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    reduce_args g;
    memset(&g, 0, sizeof g);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &g.ops, list, where);
    if (count < 0) return 0;
    g.a = a, g.b = b, g.c = c, g.alpha = alpha, g.accumulate = accumulate ? 1 : 0;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_reduce, &g, sizeof g, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* Queues attention forward or backward as a native kernel (see attention_args); returns the
 * OpenCL status. mems, order, offsets: the operands in attention_args' order, 0 where absent; dims:
 * batch tokens heads headDim alibi keyPadding accumulate backward. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueAttention(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                         jlongArray jorder, jlongArray joffsets, jintArray jdims,
                                                                         jfloat scale, jlong dropThreshold, jfloat dropScale, jlong seed,
                                                                         jlong offset) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    jint dims[8];
    if ((*env)->GetArrayLength(env, jdims) != 8) return d2v_throw(env, "java/lang/IllegalArgumentException", "openblas: expected 8 attention dimensions");
    (*env)->GetIntArrayRegion(env, jdims, 0, 8, dims);
    attention_args a;
    memset(&a, 0, sizeof a);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &a.ops, list, where);
    if (count < 0) return 0;
    a.d.batch = dims[0], a.d.tokens = dims[1], a.d.heads = dims[2], a.d.head_dim = dims[3];
    a.d.alibi = dims[4], a.d.key_padding = dims[5], a.d.accumulate = dims[6], a.backward = dims[7];
    a.d.scale = scale, a.d.drop_threshold = dropThreshold, a.d.drop_scale = dropScale;
    a.d.seed = (uint64_t)seed, a.d.offset = (uint64_t)offset;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_attention, &a, sizeof a, (cl_uint)count, list, where, 0, NULL, NULL);
}

/* The check behind the whole approach: queues a native kernel over three buffers whose first
 * elements hold 1, 2 and 3 (operands A, B, C in that order), listed as for every call, and the
 * kernel writes into element 1 of A whether each operand's address led to its own marker (1.0)
 * or not (0.0). An OpenCL that fills the address slots in another order than the one assumed
 * here (see the operands comment) fails it, and the host paths stay off. */
static void run_probe(void *p) {
    const operands *o = p;
    float *a = operand(o, OP_A), *b = operand(o, OP_B), *c = operand(o, OP_C);
    a[1] = (a[0] == 1.0f && b[0] == 2.0f && c[0] == 3.0f) ? 1.0f : 0.0f;
}

JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueProbe(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                     jlongArray jorder, jlongArray joffsets) {
    (void)cls;
    if (blas.blas == NULL) return d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
    operands o;
    memset(&o, 0, sizeof o);
    cl_mem list[OPERANDS];
    const void *where[OPERANDS];
    int count = collect_operands(env, jmems, jorder, joffsets, &o, list, where);
    if (count < 0) return 0;
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_probe, &o, sizeof o, (cl_uint)count, list, where, 0, NULL, NULL);
}
