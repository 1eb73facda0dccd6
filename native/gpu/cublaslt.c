/* JNI bindings of org.d2v.jni.CublasLt over cuBLASLt, opened with dlopen (libcublasLt.so.13,
 * then .so.12, or the names Java passes).
 *
 * The Java side turns a row-major d2v GEMM into cuBLASLt's column-major terms and hands over a
 * "plan": a fixed array of integers (types, operations, layouts, batch strides, epilogue,
 * pointer alignments; see the P_ indices, mirrored in CublasLt.Plan). This file only builds the
 * descriptors a plan describes, asks the heuristic for an algorithm once per distinct plan and
 * keeps it (so one shape always runs the same algorithm: results are reproducible run to run on
 * the same GPU and library), and launches on the caller's stream with the handle's workspace. */
#include <dlfcn.h>
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/d2v_jni.h"
#include "vendor_api.h"

#define ISE "java/lang/IllegalStateException"
#define IAE "java/lang/IllegalArgumentException"

enum {
    P_AB_TYPE, P_CD_TYPE, P_COMPUTE, P_OPA, P_OPB,
    P_A_ROWS, P_A_COLS, P_LDA, P_B_ROWS, P_B_COLS, P_LDB, P_C_ROWS, P_C_COLS, P_LDC,
    P_BATCH, P_STRIDE_A, P_STRIDE_B, P_STRIDE_C,
    P_EPILOGUE, P_BIAS_TYPE, P_AUX_LD, P_AUX_STRIDE,
    P_ALIGN_A, P_ALIGN_B, P_ALIGN_C, P_ALIGN_D,
    P_COUNT
};

static struct {
    void *library;
    char name[256];
    cublasLtCreate_fn create;
    cublasLtDestroy_fn destroy;
    cublasLtGetVersion_fn version;
    cublasLtGetStatusName_fn status_name; /* optional (cuBLASLt >= 11.4) */
    cublasLtMatmulDescCreate_fn desc_create;
    cublasLtMatmulDescDestroy_fn desc_destroy;
    cublasLtMatmulDescSetAttribute_fn desc_set;
    cublasLtMatrixLayoutCreate_fn layout_create;
    cublasLtMatrixLayoutDestroy_fn layout_destroy;
    cublasLtMatrixLayoutSetAttribute_fn layout_set;
    cublasLtMatmulPreferenceCreate_fn pref_create;
    cublasLtMatmulPreferenceDestroy_fn pref_destroy;
    cublasLtMatmulPreferenceSetAttribute_fn pref_set;
    cublasLtMatmulAlgoGetHeuristic_fn heuristic;
    cublasLtMatmul_fn matmul;
} lt;

typedef struct {
    jlong key[P_COUNT];
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulAlgo_t algo;
    size_t workspace_needed;
} plan_t;

typedef struct {
    cublasLtHandle_t handle;
    void *cuda;             /* libcuda, when the handle owns a workspace */
    cuMemFree_fn mem_free;
    CUdeviceptr workspace;
    size_t workspace_bytes;
    plan_t *plans;
    int plan_count, plan_capacity;
} d2v_lt_t;

static const char *status_text(cublasStatus_t s) {
    if (lt.status_name != NULL) {
        const char *name = lt.status_name(s);
        if (name != NULL) return name;
    }
    switch (s) {
        case 0: return "CUBLAS_STATUS_SUCCESS";
        case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
        case 7: return "CUBLAS_STATUS_INVALID_VALUE";
        case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
        case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "unknown cuBLAS status";
    }
}

static int ok(JNIEnv *env, cublasStatus_t s, const char *call) {
    if (s == CUBLAS_STATUS_SUCCESS) return 1;
    d2v_throw(env, ISE, "cublasLt: %s failed: %s (%d)", call, status_text(s), s);
    return 0;
}

#define SYM(field, symbol) (lt.field = (void *)d2v_symbol(lib, loaded, symbol, reason, sizeof reason))

JNIEXPORT jstring JNICALL Java_org_d2v_jni_CublasLt_nativeLoad(JNIEnv *env, jclass cls, jobjectArray names) {
    (void)cls;
    /* Java loads once per process; a second call (tests switching between the real library and a
     * stand-in) starts over, and no handle of the previous library may be used after it. */
    if (lt.library != NULL) dlclose(lt.library);
    memset(&lt, 0, sizeof lt);
    char reason[2048], loaded[256];
    void *lib = d2v_open_first(env, names, loaded, sizeof loaded, reason, sizeof reason);
    if (lib == NULL) return (*env)->NewStringUTF(env, reason);
    reason[0] = '\0';
    SYM(create, "cublasLtCreate");
    SYM(destroy, "cublasLtDestroy");
    SYM(version, "cublasLtGetVersion");
    SYM(desc_create, "cublasLtMatmulDescCreate");
    SYM(desc_destroy, "cublasLtMatmulDescDestroy");
    SYM(desc_set, "cublasLtMatmulDescSetAttribute");
    SYM(layout_create, "cublasLtMatrixLayoutCreate");
    SYM(layout_destroy, "cublasLtMatrixLayoutDestroy");
    SYM(layout_set, "cublasLtMatrixLayoutSetAttribute");
    SYM(pref_create, "cublasLtMatmulPreferenceCreate");
    SYM(pref_destroy, "cublasLtMatmulPreferenceDestroy");
    SYM(pref_set, "cublasLtMatmulPreferenceSetAttribute");
    SYM(heuristic, "cublasLtMatmulAlgoGetHeuristic");
    SYM(matmul, "cublasLtMatmul");
    if (reason[0] != '\0') {
        dlclose(lib);
        memset(&lt, 0, sizeof lt);
        return (*env)->NewStringUTF(env, reason);
    }
    lt.status_name = (cublasLtGetStatusName_fn)dlsym(lib, "cublasLtGetStatusName");
    snprintf(lt.name, sizeof lt.name, "%s", loaded);
    lt.library = lib;
    return NULL;
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_CublasLt_nativeLoadedName(JNIEnv *env, jclass cls) {
    (void)cls;
    return lt.library == NULL ? NULL : (*env)->NewStringUTF(env, lt.name);
}

JNIEXPORT jlong JNICALL Java_org_d2v_jni_CublasLt_nativeVersion(JNIEnv *env, jclass cls) {
    (void)env; (void)cls;
    return lt.library == NULL ? -1 : (jlong)lt.version();
}

static d2v_lt_t *handle_of(JNIEnv *env, jlong h) {
    if (h == 0) d2v_throw(env, ISE, "cublasLt: handle used after close");
    return (d2v_lt_t *)(intptr_t)h;
}

/* The workspace comes from the CUDA driver's allocator in the caller's current context (the
 * backend's); libcuda is the one library any cuBLASLt user already has loaded. */
static int allocate_workspace(JNIEnv *env, d2v_lt_t *h, jlong bytes, jobjectArray driver_names) {
    char reason[1024], loaded[256];
    h->cuda = d2v_open_first(env, driver_names, loaded, sizeof loaded, reason, sizeof reason);
    if (h->cuda == NULL) return d2v_throw(env, ISE, "cublasLt: no CUDA driver for the workspace: %s", reason);
    reason[0] = '\0';
    cuMemAlloc_fn mem_alloc = (cuMemAlloc_fn)d2v_symbol(h->cuda, loaded, "cuMemAlloc_v2", reason, sizeof reason);
    h->mem_free = (cuMemFree_fn)d2v_symbol(h->cuda, loaded, "cuMemFree_v2", reason, sizeof reason);
    if (mem_alloc == NULL || h->mem_free == NULL) return d2v_throw(env, ISE, "cublasLt: %s", reason);
    CUresult r = mem_alloc(&h->workspace, (size_t)bytes);
    if (r != 0) {
        const char *text = NULL;
        cuGetErrorString_fn error_string = (cuGetErrorString_fn)dlsym(h->cuda, "cuGetErrorString");
        if (error_string != NULL) error_string(r, &text);
        h->workspace = 0;
        return d2v_throw(env, ISE, "cublasLt: cuMemAlloc of a %lld-byte workspace failed: %s (%d)%s", (long long)bytes,
                         text == NULL ? "CUDA error" : text, r,
                         r == 201 ? " (no current CUDA context on this thread: make the device current first)" : "");
    }
    h->workspace_bytes = (size_t)bytes;
    return 1;
}

static void free_plans(d2v_lt_t *h) {
    for (int i = 0; i < h->plan_count; i++) {
        plan_t *p = &h->plans[i];
        if (p->op != NULL) lt.desc_destroy(p->op);
        if (p->a != NULL) lt.layout_destroy(p->a);
        if (p->b != NULL) lt.layout_destroy(p->b);
        if (p->c != NULL) lt.layout_destroy(p->c);
    }
    free(h->plans);
    h->plans = NULL;
    h->plan_count = h->plan_capacity = 0;
}

static void destroy(d2v_lt_t *h) {
    free_plans(h);
    if (h->handle != NULL) lt.destroy(h->handle);
    if (h->workspace != 0 && h->mem_free != NULL) h->mem_free(h->workspace);
    if (h->cuda != NULL) dlclose(h->cuda);
    free(h);
}

JNIEXPORT jlong JNICALL Java_org_d2v_jni_CublasLt_nativeCreate(JNIEnv *env, jclass cls, jlong workspace_bytes,
                                                               jobjectArray driver_names) {
    (void)cls;
    if (lt.library == NULL) {
        d2v_throw(env, ISE, "cublasLt: library not loaded");
        return 0;
    }
    d2v_lt_t *h = calloc(1, sizeof *h);
    if (h == NULL) {
        d2v_throw(env, ISE, "cublasLt: out of host memory");
        return 0;
    }
    if (!ok(env, lt.create(&h->handle), "cublasLtCreate") ||
        (workspace_bytes > 0 && !allocate_workspace(env, h, workspace_bytes, driver_names))) {
        destroy(h);
        return 0;
    }
    return (jlong)(intptr_t)h;
}

JNIEXPORT void JNICALL Java_org_d2v_jni_CublasLt_nativeDestroy(JNIEnv *env, jclass cls, jlong handle) {
    (void)env; (void)cls;
    if (handle != 0) destroy((d2v_lt_t *)(intptr_t)handle);
}

static int uses_bias(jlong epilogue) {
    return epilogue == CUBLASLT_EPILOGUE_BIAS || epilogue == CUBLASLT_EPILOGUE_GELU_AUX_BIAS ||
           epilogue == CUBLASLT_EPILOGUE_DGELU_BGRAD || epilogue == CUBLASLT_EPILOGUE_BGRADB;
}

static int uses_aux(jlong epilogue) {
    return epilogue == CUBLASLT_EPILOGUE_GELU_AUX_BIAS || epilogue == CUBLASLT_EPILOGUE_DGELU ||
           epilogue == CUBLASLT_EPILOGUE_DGELU_BGRAD;
}

static int make_layout(JNIEnv *env, cublasLtMatrixLayout_t *out, jlong type, jlong rows, jlong cols, jlong ld,
                       jlong batch, jlong stride, const char *which) {
    char call[96];
    snprintf(call, sizeof call, "cublasLtMatrixLayoutCreate(%s)", which);
    if (!ok(env, lt.layout_create(out, (int)type, (uint64_t)rows, (uint64_t)cols, (int64_t)ld), call)) return 0;
    if (batch > 1) {
        int32_t count = (int32_t)batch;
        int64_t offset = (int64_t)stride;
        snprintf(call, sizeof call, "batch attributes of %s", which);
        if (!ok(env, lt.layout_set(*out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count), call)) return 0;
        if (!ok(env, lt.layout_set(*out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &offset, sizeof offset), call))
            return 0;
    }
    return 1;
}

/* Builds the descriptors of `key` and picks its algorithm; 1 on success. */
static int build_plan(JNIEnv *env, d2v_lt_t *h, plan_t *p, const jlong *key) {
    memcpy(p->key, key, sizeof p->key);
    if (!ok(env, lt.desc_create(&p->op, (int)key[P_COMPUTE], CUDA_R_32F), "cublasLtMatmulDescCreate")) return 0;
    int32_t opa = (int32_t)key[P_OPA], opb = (int32_t)key[P_OPB];
    uint32_t epilogue = (uint32_t)key[P_EPILOGUE];
    if (!ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa), "set TRANSA") ||
        !ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb), "set TRANSB") ||
        !ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue), "set EPILOGUE"))
        return 0;
    if (key[P_BIAS_TYPE] >= 0) {
        int32_t bias_type = (int32_t)key[P_BIAS_TYPE];
        if (!ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type),
                "set BIAS_DATA_TYPE")) return 0;
    }
    if (uses_aux(key[P_EPILOGUE])) {
        int64_t aux_ld = key[P_AUX_LD], aux_stride = key[P_AUX_STRIDE];
        if (!ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &aux_ld, sizeof aux_ld),
                "set EPILOGUE_AUX_LD")) return 0;
        if (key[P_BATCH] > 1 &&
            !ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE, &aux_stride, sizeof aux_stride),
                "set EPILOGUE_AUX_BATCH_STRIDE")) return 0;
    }
    if (!make_layout(env, &p->a, key[P_AB_TYPE], key[P_A_ROWS], key[P_A_COLS], key[P_LDA], key[P_BATCH],
                     key[P_STRIDE_A], "A") ||
        !make_layout(env, &p->b, key[P_AB_TYPE], key[P_B_ROWS], key[P_B_COLS], key[P_LDB], key[P_BATCH],
                     key[P_STRIDE_B], "B") ||
        !make_layout(env, &p->c, key[P_CD_TYPE], key[P_C_ROWS], key[P_C_COLS], key[P_LDC], key[P_BATCH],
                     key[P_STRIDE_C], "C/D"))
        return 0;

    cublasLtMatmulPreference_t pref = NULL;
    if (!ok(env, lt.pref_create(&pref), "cublasLtMatmulPreferenceCreate")) return 0;
    uint64_t workspace = h->workspace_bytes;
    uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE | CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE;
    uint32_t align[4] = {(uint32_t)key[P_ALIGN_A], (uint32_t)key[P_ALIGN_B], (uint32_t)key[P_ALIGN_C],
                         (uint32_t)key[P_ALIGN_D]};
    int set = ok(env, lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace),
                 "set MAX_WORKSPACE_BYTES") &&
              ok(env, lt.pref_set(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &schemes, sizeof schemes),
                 "set REDUCTION_SCHEME_MASK") &&
              ok(env, lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align[0], sizeof align[0]),
                 "set MIN_ALIGNMENT_A_BYTES") &&
              ok(env, lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align[1], sizeof align[1]),
                 "set MIN_ALIGNMENT_B_BYTES") &&
              ok(env, lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align[2], sizeof align[2]),
                 "set MIN_ALIGNMENT_C_BYTES") &&
              ok(env, lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align[3], sizeof align[3]),
                 "set MIN_ALIGNMENT_D_BYTES");
    cublasLtMatmulHeuristicResult_t result;
    int returned = 0;
    memset(&result, 0, sizeof result);
    if (set) {
        set = ok(env, lt.heuristic(h->handle, p->op, p->a, p->b, p->c, p->c, pref, 1, &result, &returned),
                 "cublasLtMatmulAlgoGetHeuristic");
    }
    lt.pref_destroy(pref);
    if (!set) return 0;
    if (returned < 1 || result.state != CUBLAS_STATUS_SUCCESS) {
        d2v_throw(env, ISE, "cublasLt: no algorithm for this GEMM (%s)",
                  returned < 1 ? "the heuristic returned none" : status_text(result.state));
        return 0;
    }
    p->algo = result.algo;
    p->workspace_needed = result.workspaceSize;
    return 1;
}

static plan_t *find_plan(JNIEnv *env, d2v_lt_t *h, jlongArray jkey) {
    if (jkey == NULL || (*env)->GetArrayLength(env, jkey) != P_COUNT) {
        d2v_throw(env, IAE, "cublasLt: a plan has %d entries", P_COUNT);
        return NULL;
    }
    jlong key[P_COUNT];
    (*env)->GetLongArrayRegion(env, jkey, 0, P_COUNT, key);
    for (int i = 0; i < h->plan_count; i++) {
        if (memcmp(h->plans[i].key, key, sizeof key) == 0) return &h->plans[i];
    }
    if (h->plan_count == h->plan_capacity) {
        int capacity = h->plan_capacity == 0 ? 16 : 2 * h->plan_capacity;
        plan_t *grown = realloc(h->plans, (size_t)capacity * sizeof *grown);
        if (grown == NULL) {
            d2v_throw(env, ISE, "cublasLt: out of host memory for plans");
            return NULL;
        }
        h->plans = grown;
        h->plan_capacity = capacity;
    }
    plan_t *p = &h->plans[h->plan_count];
    memset(p, 0, sizeof *p);
    if (!build_plan(env, h, p, key)) {
        if (p->op != NULL) lt.desc_destroy(p->op);
        if (p->a != NULL) lt.layout_destroy(p->a);
        if (p->b != NULL) lt.layout_destroy(p->b);
        if (p->c != NULL) lt.layout_destroy(p->c);
        return NULL;
    }
    h->plan_count++;
    return p;
}

JNIEXPORT void JNICALL Java_org_d2v_jni_CublasLt_nativeMatmul(JNIEnv *env, jclass cls, jlong handle, jlongArray jkey,
                                                              jlong a, jlong b, jlong c, jlong d, jfloat alpha,
                                                              jfloat beta, jlong bias, jlong aux, jlong stream) {
    (void)cls;
    d2v_lt_t *h = handle_of(env, handle);
    if (h == NULL) return;
    plan_t *p = find_plan(env, h, jkey);
    if (p == NULL) return;
    if (uses_bias(p->key[P_EPILOGUE])) {
        void *ptr = (void *)(intptr_t)bias;
        if (!ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &ptr, sizeof ptr), "set BIAS_POINTER"))
            return;
    }
    if (uses_aux(p->key[P_EPILOGUE])) {
        void *ptr = (void *)(intptr_t)aux;
        if (!ok(env, lt.desc_set(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &ptr, sizeof ptr),
                "set EPILOGUE_AUX_POINTER")) return;
    }
    ok(env, lt.matmul(h->handle, p->op, &alpha, (const void *)(intptr_t)a, p->a, (const void *)(intptr_t)b, p->b,
                      &beta, (const void *)(intptr_t)c, p->c, (void *)(intptr_t)d, p->c, &p->algo,
                      (void *)(uintptr_t)h->workspace, h->workspace_bytes, (cudaStream_t)(intptr_t)stream),
       "cublasLtMatmul");
}

JNIEXPORT jint JNICALL Java_org_d2v_jni_CublasLt_nativePlanCount(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    d2v_lt_t *h = handle_of(env, handle);
    return h == NULL ? 0 : h->plan_count;
}

/* The pinned algorithm of a plan (its 8 opaque words) and the workspace it needs, or null when
 * the plan has not run yet: lets a check confirm that one shape keeps one algorithm. */
JNIEXPORT jlongArray JNICALL Java_org_d2v_jni_CublasLt_nativeAlgorithm(JNIEnv *env, jclass cls, jlong handle,
                                                                       jlongArray jkey) {
    (void)cls;
    d2v_lt_t *h = handle_of(env, handle);
    if (h == NULL || jkey == NULL || (*env)->GetArrayLength(env, jkey) != P_COUNT) return NULL;
    jlong key[P_COUNT];
    (*env)->GetLongArrayRegion(env, jkey, 0, P_COUNT, key);
    for (int i = 0; i < h->plan_count; i++) {
        if (memcmp(h->plans[i].key, key, sizeof key) != 0) continue;
        jlong words[9];
        for (int w = 0; w < 8; w++) words[w] = (jlong)h->plans[i].algo.data[w];
        words[8] = (jlong)h->plans[i].workspace_needed;
        jlongArray out = (*env)->NewLongArray(env, 9);
        if (out != NULL) (*env)->SetLongArrayRegion(env, out, 0, 9, words);
        return out;
    }
    return NULL;
}
