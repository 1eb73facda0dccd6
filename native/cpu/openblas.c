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

#include "../common/d2v_jni.h"

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
enum { OP_A, OP_B, OP_BIAS, OP_C, OP_PREACT, OPERANDS };
typedef struct {
    float *base[OPERANDS];
    int32_t slot[OPERANDS];
    int64_t offset[OPERANDS];
    int64_t stride_a, stride_b, stride_c;     /* elements between batch entries (stride_b 0: broadcast) */
    int32_t m, n, k, trans_a, trans_b, batch;
    int32_t has_bias, gelu, has_preact, accumulate;
} gemm_args;

static float *operand(const gemm_args *g, int which) {
    return g->slot[which] < 0 ? NULL : g->base[g->slot[which]] + g->offset[which];
}

/* exp for the erf below, branch-free so that the epilogue vectorises (libm's expf is a call per
 * element): 2^n · e^r with n = round(x / ln 2) and |r| <= ln 2 / 2, e^r by the classic degree-7
 * minimax polynomial of Cephes' expf, ln 2 split in two for an exact reduction. Within 2 ulp of
 * expf over the range used (e^(p - z²) of erf's tail, arguments from -inf to about 0); below
 * -87 it flushes to 2^-126 · e^r, which the erf never sees (1 - t·e^... is then 1 to fp32). */
static inline __attribute__((always_inline)) float exp_vec(float x) {
    x = x < -87.0f ? -87.0f : x; /* not fmaxf/fminf: they are calls, these are one instruction each */
    x = x > 88.0f ? 88.0f : x;
    float n = rintf(x * 1.44269504088896341f);
    float r = fmaf(n, -0.693359375f, x);
    r = fmaf(n, 2.12194440e-4f, r);
    float q = 1.9875691500e-4f;
    q = fmaf(q, r, 1.3981999507e-3f);
    q = fmaf(q, r, 8.3334519073e-3f);
    q = fmaf(q, r, 4.1665795894e-2f);
    q = fmaf(q, r, 1.6666665459e-1f);
    q = fmaf(q, r, 5.0000001201e-1f);
    float e = fmaf(q * r, r, r) + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
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

static void run_gemm(void *p) {
    const gemm_args *g = p;
    int m = g->m, n = g->n, k = g->k;
    int lda = g->trans_a ? m : k, ldb = g->trans_b ? k : n;
    const float *a0 = operand(g, OP_A), *b0 = operand(g, OP_B), *bias = operand(g, OP_BIAS);
    float *c0 = operand(g, OP_C), *pre0 = operand(g, OP_PREACT);
    for (int q = 0; q < g->batch; q++) {
        const float *a = a0 + (int64_t)q * g->stride_a;
        const float *b = b0 + (int64_t)q * g->stride_b;
        float *c = c0 + (int64_t)q * g->stride_c;
        /* With GELU the product goes to the pre-activation (when kept) and GELU reads it from there. */
        float *dst = g->gelu && g->has_preact ? pre0 + (int64_t)q * g->stride_c : c;
        blas.sgemm(CBLAS_ROW_MAJOR, g->trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, g->trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS,
                   m, n, k, 1.0f, a, lda, b, ldb, g->accumulate ? 1.0f : 0.0f, dst, n);
        if (!g->has_bias && !g->gelu) continue;
        for (int i = 0; i < m; i++) {
            float *row = dst + (int64_t)i * n;
            if (g->has_bias) bias_row(row, bias, n);
            if (g->gelu) gelu_row(row, c + (int64_t)i * n, n);
        }
    }
}

#define SYM(field, symbol) (blas.field = (void *)d2v_symbol(lib, loaded, symbol, reason, sizeof reason))

/* OpenBLAS built for many CPUs (DYNAMIC_ARCH, as Debian ships it) picks its kernels from the CPU
 * model; an older release that does not know the model (0.3.21 and Sapphire Rapids) falls back to
 * its slowest generic kernels, ~5x slower. Unless the user chose (OPENBLAS_CORETYPE), name the
 * newest kernel family whose instructions this CPU has; a build for one CPU ignores it. */
static void choose_core_type(void) {
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 0);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        setenv("OPENBLAS_CORETYPE", "HASWELL", 0);
    }
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_OpenBlas_nativeLoad(JNIEnv *env, jclass cls, jobjectArray blas_names,
                                                                jobjectArray opencl_names) {
    (void)cls;
    if (blas.blas != NULL) return NULL; /* once per process: OpenBLAS cannot be unloaded safely */
    char reason[2048], loaded[256], cl_loaded[256];
    void *cl = d2v_open_first(env, opencl_names, cl_loaded, sizeof cl_loaded, reason, sizeof reason);
    if (cl == NULL) return (*env)->NewStringUTF(env, reason);
    reason[0] = '\0';
    blas.enqueue_native = (clEnqueueNativeKernel_fn)d2v_symbol(cl, cl_loaded, "clEnqueueNativeKernel", reason, sizeof reason);
    if (blas.enqueue_native == NULL) return (*env)->NewStringUTF(env, reason);
    choose_core_type();
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
    snprintf(text, sizeof text, "%s: %s (kernels %s, %d thread%s)", blas.name, blas.config != NULL ? blas.config() : "cblas",
             blas.corename != NULL ? blas.corename() : "unknown", threads, threads == 1 ? "" : "s");
    return (*env)->NewStringUTF(env, text);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_OpenBlas_nativeSetThreads(JNIEnv *env, jclass cls, jint threads) {
    (void)env;
    (void)cls;
    if (blas.set_threads != NULL && threads > 0) blas.set_threads(threads);
}

/* Queues one GEMM (all batch entries) as a native kernel; returns the OpenCL status. mems: A, B,
 * bias, C, preact (0 where absent); dims: m n k transA transB batch hasBias gelu hasPreact
 * accumulate; offsets: ao bo biaso co po strideA strideB strideC (elements). */
JNIEXPORT jint JNICALL Java_org_d2v_jni_OpenBlas_nativeEnqueueGemm(JNIEnv *env, jclass cls, jlong queue, jlongArray jmems,
                                                                    jlongArray jorder, jintArray jdims, jlongArray joffsets) {
    (void)cls;
    if (blas.blas == NULL) {
        d2v_throw(env, "java/lang/IllegalStateException", "openblas: not loaded");
        return 0;
    }
    jlong mems[OPERANDS], order[OPERANDS], offsets[8];
    jint dims[10];
    if ((*env)->GetArrayLength(env, jmems) != OPERANDS || (*env)->GetArrayLength(env, jorder) != OPERANDS
            || (*env)->GetArrayLength(env, jdims) != 10 || (*env)->GetArrayLength(env, joffsets) != 8) {
        d2v_throw(env, "java/lang/IllegalArgumentException", "openblas: expected 5 buffers, their order, 10 dimensions, 8 offsets");
        return 0;
    }
    (*env)->GetLongArrayRegion(env, jmems, 0, OPERANDS, mems);
    (*env)->GetLongArrayRegion(env, jorder, 0, OPERANDS, order);
    (*env)->GetIntArrayRegion(env, jdims, 0, 10, dims);
    (*env)->GetLongArrayRegion(env, joffsets, 0, 8, offsets);
    gemm_args g;
    memset(&g, 0, sizeof g);
    g.m = dims[0], g.n = dims[1], g.k = dims[2], g.trans_a = dims[3], g.trans_b = dims[4], g.batch = dims[5];
    g.has_bias = dims[6], g.gelu = dims[7], g.has_preact = dims[8], g.accumulate = dims[9];
    g.stride_a = offsets[5], g.stride_b = offsets[6], g.stride_c = offsets[7];
    /* The distinct buffers, in order of creation (insertion sort of at most five). */
    cl_mem list[OPERANDS];
    jlong list_order[OPERANDS];
    cl_uint count = 0;
    for (int i = 0; i < OPERANDS; i++) {
        g.offset[i] = offsets[i];
        if (mems[i] == 0) continue;
        cl_mem mem = (cl_mem)(intptr_t)mems[i];
        int seen = 0;
        for (cl_uint u = 0; u < count; u++) seen |= list[u] == mem;
        if (seen) continue;
        cl_uint at = count++;
        while (at > 0 && list_order[at - 1] > order[i]) {
            list[at] = list[at - 1];
            list_order[at] = list_order[at - 1];
            at--;
        }
        list[at] = mem;
        list_order[at] = order[i];
    }
    const void *where[OPERANDS];
    for (cl_uint u = 0; u < count; u++) {
        g.base[u] = (float *)list[u]; /* the handle stands in until OpenCL substitutes the address */
        where[u] = &g.base[u];
    }
    for (int i = 0; i < OPERANDS; i++) {
        g.slot[i] = -1;
        for (cl_uint u = 0; u < count; u++) {
            if (mems[i] != 0 && list[u] == (cl_mem)(intptr_t)mems[i]) g.slot[i] = (int32_t)u;
        }
    }
    return blas.enqueue_native((cl_command_queue)(intptr_t)queue, run_gemm, &g, sizeof g, count, list, where, 0, NULL, NULL);
}
