/* A CPU stand-in for the part of cuBLASLt's C API that d2v binds, written from NVIDIA's API
 * documentation, for tests on machines without a GPU: "device" pointers are host pointers and
 * the stream is ignored. It computes what cuBLASLt documents (column-major layouts, op(A)·op(B),
 * strided batches, the bias/GELU/DGELU/BGRAD epilogues with GELU's tanh form) in double, checks
 * the size of every attribute it is given, and fails as cuBLASLt does on bad layouts, so a test
 * that runs the real binding against it checks the binding's descriptors, plans and calls. It
 * says nothing about cuBLASLt's speed or its exact rounding; only a GPU run can. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../gpu/vendor_api.h"

#define EXPORT __attribute__((visibility("default")))
enum { OK = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };
enum { MATMUL_DESC_COMPUTE_TYPE = 0 };

typedef struct { int alive; } handle_t;
typedef struct {
    int compute, scale, opa, opb;
    uint32_t epilogue;
    const void *bias;
    int bias_type;
    void *aux;
    int64_t aux_ld, aux_stride;
} desc_t;
typedef struct { int type; uint64_t rows, cols; int64_t ld; int32_t batch; int64_t stride; } layout_t;
typedef struct { uint64_t workspace; uint32_t schemes; uint32_t align[4]; } pref_t;

static long heuristic_calls;

EXPORT cublasStatus_t cublasLtCreate(cublasLtHandle_t *h) {
    handle_t *x = calloc(1, sizeof *x);
    if (x == NULL) return 3;
    x->alive = 1;
    *h = x;
    return OK;
}
EXPORT cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) { free(h); return OK; }
EXPORT size_t cublasLtGetVersion(void) { return 990000; /* recognisably not a real release */ }
EXPORT const char *cublasLtGetStatusName(cublasStatus_t s) {
    switch (s) {
        case OK: return "CUBLAS_STATUS_SUCCESS";
        case INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "CUBLAS_STATUS_INTERNAL_ERROR";
    }
}

EXPORT cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, int compute, int scale) {
    if (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32) return NOT_SUPPORTED;
    if (scale != CUDA_R_32F) return NOT_SUPPORTED;
    desc_t *x = calloc(1, sizeof *x);
    x->compute = compute;
    x->scale = scale;
    x->epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    x->bias_type = -1;
    *d = x;
    return OK;
}
EXPORT cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) { free(d); return OK; }

#define NEED(n) do { if (size != (n)) return INVALID_VALUE; } while (0)
EXPORT cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, int attr, const void *buf, size_t size) {
    desc_t *x = d;
    switch (attr) {
        case CUBLASLT_MATMUL_DESC_TRANSA: NEED(4); x->opa = *(const int32_t *)buf; return x->opa <= 1 ? OK : INVALID_VALUE;
        case CUBLASLT_MATMUL_DESC_TRANSB: NEED(4); x->opb = *(const int32_t *)buf; return x->opb <= 1 ? OK : INVALID_VALUE;
        case CUBLASLT_MATMUL_DESC_EPILOGUE: NEED(4); x->epilogue = *(const uint32_t *)buf; return OK;
        case CUBLASLT_MATMUL_DESC_BIAS_POINTER: NEED(sizeof(void *)); x->bias = *(const void *const *)buf; return OK;
        case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: NEED(4); x->bias_type = *(const int32_t *)buf; return OK;
        case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER: NEED(sizeof(void *)); x->aux = *(void *const *)buf; return OK;
        case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD: NEED(8); x->aux_ld = *(const int64_t *)buf; return OK;
        case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE: NEED(8); x->aux_stride = *(const int64_t *)buf; return OK;
        default: return INVALID_VALUE; /* d2v sets no other attribute */
    }
}

EXPORT cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, int type, uint64_t rows, uint64_t cols,
                                                 int64_t ld) {
    if (type != CUDA_R_32F && type != CUDA_R_16BF) return NOT_SUPPORTED;
    if (ld < (int64_t)rows || rows == 0 || cols == 0) return INVALID_VALUE;
    layout_t *x = calloc(1, sizeof *x);
    *x = (layout_t){type, rows, cols, ld, 1, 0};
    *l = x;
    return OK;
}
EXPORT cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) { free(l); return OK; }
EXPORT cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l, int attr, const void *buf,
                                                       size_t size) {
    layout_t *x = l;
    switch (attr) {
        case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT: NEED(4); x->batch = *(const int32_t *)buf; return x->batch >= 1 ? OK : INVALID_VALUE;
        case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET: NEED(8); x->stride = *(const int64_t *)buf; return OK;
        default: return INVALID_VALUE;
    }
}

EXPORT cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) {
    pref_t *x = calloc(1, sizeof *x);
    for (int i = 0; i < 4; i++) x->align[i] = 256;
    *p = x;
    return OK;
}
EXPORT cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) { free(p); return OK; }
EXPORT cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p, int attr, const void *buf,
                                                           size_t size) {
    pref_t *x = p;
    switch (attr) {
        case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: NEED(8); x->workspace = *(const uint64_t *)buf; return OK;
        case CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK: NEED(4); x->schemes = *(const uint32_t *)buf; return OK;
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
            NEED(4);
            x->align[attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES] = *(const uint32_t *)buf;
            return OK;
        default: return INVALID_VALUE;
    }
}

static int uses_aux(uint32_t e) {
    return e == CUBLASLT_EPILOGUE_GELU_AUX_BIAS || e == CUBLASLT_EPILOGUE_DGELU || e == CUBLASLT_EPILOGUE_DGELU_BGRAD;
}
static int known_epilogue(uint32_t e) {
    return e == CUBLASLT_EPILOGUE_DEFAULT || e == CUBLASLT_EPILOGUE_BIAS || uses_aux(e) || e == CUBLASLT_EPILOGUE_BGRADB;
}

/* The documented shape rules: op(A) is m×k, op(B) k×n, C and D m×n, equal batch counts. */
static cublasStatus_t validate(const desc_t *d, const layout_t *a, const layout_t *b, const layout_t *c,
                               const layout_t *dd) {
    uint64_t m = c->rows, n = c->cols;
    uint64_t am = d->opa == CUBLAS_OP_N ? a->rows : a->cols, ak = d->opa == CUBLAS_OP_N ? a->cols : a->rows;
    uint64_t bk = d->opb == CUBLAS_OP_N ? b->rows : b->cols, bn = d->opb == CUBLAS_OP_N ? b->cols : b->rows;
    if (am != m || bn != n || ak != bk) return INVALID_VALUE;
    if (c != dd && (dd->rows != m || dd->cols != n)) return INVALID_VALUE;
    if (a->batch != c->batch || b->batch != c->batch) return INVALID_VALUE;
    if (a->type != b->type) return NOT_SUPPORTED;
    if (a->type == CUDA_R_32F && c->type != CUDA_R_32F) return NOT_SUPPORTED;
    if (!known_epilogue(d->epilogue)) return NOT_SUPPORTED;
    if (uses_aux(d->epilogue) && (d->aux_ld % 8 != 0 || d->aux_ld < (int64_t)m)) return INVALID_VALUE;
    if ((d->epilogue == CUBLASLT_EPILOGUE_DGELU_BGRAD || d->epilogue == CUBLASLT_EPILOGUE_BGRADB) && c->batch > 1)
        return NOT_SUPPORTED;
    return OK;
}

EXPORT cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t desc,
                                                     cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                                     cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                                     cublasLtMatmulPreference_t pref, int requested,
                                                     cublasLtMatmulHeuristicResult_t *results, int *returned) {
    if (h == NULL) return NOT_INITIALIZED;
    if (requested < 1) return INVALID_VALUE;
    cublasStatus_t s = validate(desc, a, b, c, d);
    *returned = 0;
    if (s == NOT_SUPPORTED) return NOT_SUPPORTED;
    if (s != OK) return s;
    const pref_t *p = pref;
    memset(&results[0], 0, sizeof results[0]);
    results[0].algo.data[0] = 0xf00d;                     /* "which kernel" */
    results[0].algo.data[1] = (uint64_t)++heuristic_calls; /* distinct per query: a re-query is visible */
    for (int i = 0; i < 4; i++) results[0].algo.data[2 + i] = p->align[i];
    results[0].algo.data[6] = p->schemes;
    results[0].workspaceSize = 0;
    results[0].state = OK;
    *returned = 1;
    return OK;
}

static double load(const void *base, int type, int64_t index) {
    if (type == CUDA_R_32F) return ((const float *)base)[index];
    uint32_t bits = (uint32_t)((const uint16_t *)base)[index] << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void store(void *base, int type, int64_t index, double value) {
    float f = (float)value;
    if (type == CUDA_R_32F) {
        ((float *)base)[index] = f;
        return;
    }
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits += 0x7fff + ((bits >> 16) & 1); /* round to nearest even (no NaN inputs in tests) */
    ((uint16_t *)base)[index] = (uint16_t)(bits >> 16);
}

static double gelu_tanh(double x) {
    const double k = 0.7978845608028654; /* sqrt(2/pi) */
    return 0.5 * x * (1 + tanh(k * (x + 0.044715 * x * x * x)));
}

static double gelu_tanh_grad(double x) {
    const double k = 0.7978845608028654;
    double u = k * (x + 0.044715 * x * x * x), t = tanh(u);
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
}

static int aligned(const void *p, uint32_t alignment) { return p == NULL || (uintptr_t)p % alignment == 0; }

EXPORT cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t desc, const void *alpha_p,
                                     const void *A, cublasLtMatrixLayout_t adesc, const void *B,
                                     cublasLtMatrixLayout_t bdesc, const void *beta_p, const void *C,
                                     cublasLtMatrixLayout_t cdesc, void *D, cublasLtMatrixLayout_t ddesc,
                                     const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspace_bytes,
                                     cudaStream_t stream) {
    const desc_t *d = desc;
    const layout_t *a = adesc, *b = bdesc, *c = cdesc, *dl = ddesc;
    if (h == NULL || algo == NULL || algo->data[0] != 0xf00d) return INVALID_VALUE;
    cublasStatus_t s = validate(d, a, b, c, dl);
    if (s != OK) return s;
    /* An algorithm chosen for an alignment must not meet a less aligned pointer. */
    if (!aligned(A, (uint32_t)algo->data[2]) || !aligned(B, (uint32_t)algo->data[3]) ||
        !aligned(C, (uint32_t)algo->data[4]) || !aligned(D, (uint32_t)algo->data[5]))
        return INVALID_VALUE;
    uint32_t e = d->epilogue;
    int bias_type = d->bias_type >= 0 ? d->bias_type : dl->type;
    if ((e == CUBLASLT_EPILOGUE_BIAS || e == CUBLASLT_EPILOGUE_GELU_AUX_BIAS || e == CUBLASLT_EPILOGUE_DGELU_BGRAD ||
         e == CUBLASLT_EPILOGUE_BGRADB) && d->bias == NULL) return INVALID_VALUE;
    if (uses_aux(e) && d->aux == NULL) return INVALID_VALUE;
    double alpha = *(const float *)alpha_p, beta = *(const float *)beta_p;
    int64_t m = (int64_t)dl->rows, n = (int64_t)dl->cols;
    int64_t k = d->opa == CUBLAS_OP_N ? (int64_t)a->cols : (int64_t)a->rows;
    for (int32_t batch = 0; batch < dl->batch; batch++) {
        const int64_t oa = batch * a->stride, ob = batch * b->stride, oc = batch * c->stride, od = batch * dl->stride;
        double *column_sums = e == CUBLASLT_EPILOGUE_DGELU_BGRAD ? calloc((size_t)m, sizeof(double)) : NULL;
        for (int64_t j = 0; j < n; j++) {
            for (int64_t i = 0; i < m; i++) {
                double acc = 0;
                for (int64_t p = 0; p < k; p++) {
                    int64_t ia = d->opa == CUBLAS_OP_N ? i + p * a->ld : p + i * a->ld;
                    int64_t ib = d->opb == CUBLAS_OP_N ? p + j * b->ld : j + p * b->ld;
                    acc += load(A, a->type, oa + ia) * load(B, b->type, ob + ib);
                }
                double v = alpha * acc;
                if (beta != 0) v += beta * load(C, c->type, oc + i + j * c->ld);
                int64_t aux_at = batch * d->aux_stride + i + j * d->aux_ld;
                if (e == CUBLASLT_EPILOGUE_BIAS || e == CUBLASLT_EPILOGUE_GELU_AUX_BIAS) v += load(d->bias, bias_type, i);
                if (e == CUBLASLT_EPILOGUE_GELU_AUX_BIAS) {
                    store(d->aux, dl->type, aux_at, v);
                    v = gelu_tanh(v);
                }
                if (e == CUBLASLT_EPILOGUE_DGELU || e == CUBLASLT_EPILOGUE_DGELU_BGRAD)
                    v *= gelu_tanh_grad(load(d->aux, dl->type, aux_at));
                if (column_sums != NULL) column_sums[i] += v;
                store(D, dl->type, od + i + j * dl->ld, v);
            }
        }
        if (column_sums != NULL) {
            for (int64_t i = 0; i < m; i++) store((void *)d->bias, bias_type, i, column_sums[i]);
            free(column_sums);
        }
        if (e == CUBLASLT_EPILOGUE_BGRADB) { /* the bias gradient of op(B): one sum over k per column of D */
            for (int64_t j = 0; j < n; j++) {
                double sum = 0;
                for (int64_t p = 0; p < k; p++)
                    sum += load(B, b->type, ob + (d->opb == CUBLAS_OP_N ? p + j * b->ld : j + p * b->ld));
                store((void *)d->bias, bias_type, j, sum);
            }
        }
    }
    (void)workspace; (void)workspace_bytes; (void)stream;
    return OK;
}
