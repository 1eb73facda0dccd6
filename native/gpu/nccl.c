/* JNI bindings of org.d2v.jni.Nccl over NCCL 2, opened with dlopen (libnccl.so.2, or the names
 * Java passes). Collectives are queued on the caller's CUDA stream and return at once, as NCCL's
 * do; failures come back as IllegalStateException with NCCL's error string (and its last-error
 * detail where the library has ncclGetLastError). */
#include <dlfcn.h>
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../common/d2v_jni.h"
#include "vendor_api.h"

#define ISE "java/lang/IllegalStateException"

static struct {
    void *library;
    char name[256];
    ncclGetVersion_fn version;
    ncclGetUniqueId_fn unique_id;
    ncclCommInitRank_fn init_rank;
    ncclAllReduce_fn all_reduce;
    ncclBroadcast_fn broadcast;
    ncclCommDestroy_fn destroy;
    ncclCommAbort_fn abort;
    ncclCommGetAsyncError_fn async_error;
    ncclGetErrorString_fn error_string;
    ncclGetLastError_fn last_error; /* optional */
} nc;

static int ok(JNIEnv *env, ncclResult_t r, ncclComm_t comm, const char *call) {
    if (r == ncclSuccess) return 1;
    const char *text = nc.error_string != NULL ? nc.error_string(r) : NULL;
    const char *detail = nc.last_error != NULL ? nc.last_error(comm) : NULL;
    d2v_throw(env, ISE, "nccl: %s failed: %s (%d)%s%s", call, text == NULL ? "NCCL error" : text, r,
              detail != NULL && detail[0] != '\0' ? ": " : "", detail != NULL ? detail : "");
    return 0;
}

#define SYM(field, symbol) (nc.field = (void *)d2v_symbol(lib, loaded, symbol, reason, sizeof reason))

JNIEXPORT jstring JNICALL Java_org_d2v_jni_Nccl_nativeLoad(JNIEnv *env, jclass cls, jobjectArray names) {
    (void)cls;
    /* Java loads once per process; a second call (tests switching between the real library and a
     * stand-in) starts over, and no handle of the previous library may be used after it. */
    if (nc.library != NULL) dlclose(nc.library);
    memset(&nc, 0, sizeof nc);
    char reason[2048], loaded[256];
    void *lib = d2v_open_first(env, names, loaded, sizeof loaded, reason, sizeof reason);
    if (lib == NULL) return (*env)->NewStringUTF(env, reason);
    reason[0] = '\0';
    SYM(version, "ncclGetVersion");
    SYM(unique_id, "ncclGetUniqueId");
    SYM(init_rank, "ncclCommInitRank");
    SYM(all_reduce, "ncclAllReduce");
    SYM(broadcast, "ncclBroadcast");
    SYM(destroy, "ncclCommDestroy");
    SYM(abort, "ncclCommAbort");
    SYM(async_error, "ncclCommGetAsyncError");
    SYM(error_string, "ncclGetErrorString");
    if (reason[0] != '\0') {
        dlclose(lib);
        memset(&nc, 0, sizeof nc);
        return (*env)->NewStringUTF(env, reason);
    }
    nc.last_error = (ncclGetLastError_fn)dlsym(lib, "ncclGetLastError");
    snprintf(nc.name, sizeof nc.name, "%s", loaded);
    nc.library = lib;
    return NULL;
}

static int loaded_or_throw(JNIEnv *env) {
    if (nc.library != NULL) return 1;
    d2v_throw(env, ISE, "nccl: library not loaded");
    return 0;
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_Nccl_nativeLoadedName(JNIEnv *env, jclass cls) {
    (void)cls;
    return nc.library == NULL ? NULL : (*env)->NewStringUTF(env, nc.name);
}

JNIEXPORT jint JNICALL Java_org_d2v_jni_Nccl_nativeVersion(JNIEnv *env, jclass cls) {
    (void)cls;
    int version = 0;
    if (!loaded_or_throw(env) || !ok(env, nc.version(&version), NULL, "ncclGetVersion")) return -1;
    return version;
}

JNIEXPORT jbyteArray JNICALL Java_org_d2v_jni_Nccl_nativeUniqueId(JNIEnv *env, jclass cls) {
    (void)cls;
    ncclUniqueId id;
    if (!loaded_or_throw(env) || !ok(env, nc.unique_id(&id), NULL, "ncclGetUniqueId")) return NULL;
    jbyteArray out = (*env)->NewByteArray(env, NCCL_UNIQUE_ID_BYTES);
    if (out != NULL) (*env)->SetByteArrayRegion(env, out, 0, NCCL_UNIQUE_ID_BYTES, (const jbyte *)id.internal);
    return out;
}

JNIEXPORT jlong JNICALL Java_org_d2v_jni_Nccl_nativeInitRank(JNIEnv *env, jclass cls, jint nranks, jbyteArray jid,
                                                             jint rank) {
    (void)cls;
    if (!loaded_or_throw(env)) return 0;
    if (jid == NULL || (*env)->GetArrayLength(env, jid) != NCCL_UNIQUE_ID_BYTES) {
        d2v_throw(env, "java/lang/IllegalArgumentException", "nccl: a unique id has %d bytes", NCCL_UNIQUE_ID_BYTES);
        return 0;
    }
    ncclUniqueId id;
    (*env)->GetByteArrayRegion(env, jid, 0, NCCL_UNIQUE_ID_BYTES, (jbyte *)id.internal);
    ncclComm_t comm = NULL;
    char call[96];
    snprintf(call, sizeof call, "ncclCommInitRank(rank %d of %d)", (int)rank, (int)nranks);
    if (!ok(env, nc.init_rank(&comm, nranks, id, rank), NULL, call)) return 0;
    return (jlong)(intptr_t)comm;
}

static ncclComm_t comm_of(JNIEnv *env, jlong comm) {
    if (comm == 0) d2v_throw(env, ISE, "nccl: communicator used after close");
    return (ncclComm_t)(intptr_t)comm;
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Nccl_nativeAllReduce(JNIEnv *env, jclass cls, jlong comm, jlong send,
                                                             jlong recv, jlong count, jint type, jint op,
                                                             jlong stream) {
    (void)cls;
    ncclComm_t c = comm_of(env, comm);
    if (c == NULL) return;
    ok(env, nc.all_reduce((const void *)(intptr_t)send, (void *)(intptr_t)recv, (size_t)count, type, op, c,
                          (cudaStream_t)(intptr_t)stream), c, "ncclAllReduce");
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Nccl_nativeBroadcast(JNIEnv *env, jclass cls, jlong comm, jlong send,
                                                             jlong recv, jlong count, jint type, jint root,
                                                             jlong stream) {
    (void)cls;
    ncclComm_t c = comm_of(env, comm);
    if (c == NULL) return;
    ok(env, nc.broadcast((const void *)(intptr_t)send, (void *)(intptr_t)recv, (size_t)count, type, root, c,
                         (cudaStream_t)(intptr_t)stream), c, "ncclBroadcast");
}

/* The communicator's asynchronous error (ncclSuccess while healthy): a watchdog polls it, since a
 * failed peer surfaces here and not at the (already returned) collective call. */
JNIEXPORT jint JNICALL Java_org_d2v_jni_Nccl_nativeAsyncError(JNIEnv *env, jclass cls, jlong comm) {
    (void)cls;
    ncclComm_t c = comm_of(env, comm);
    if (c == NULL) return -1;
    ncclResult_t error = ncclSuccess;
    if (!ok(env, nc.async_error(c, &error), c, "ncclCommGetAsyncError")) return -1;
    return error;
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_Nccl_nativeErrorString(JNIEnv *env, jclass cls, jint result) {
    (void)cls;
    const char *text = nc.error_string != NULL ? nc.error_string(result) : NULL;
    return (*env)->NewStringUTF(env, text == NULL ? "unknown NCCL result" : text);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Nccl_nativeDestroy(JNIEnv *env, jclass cls, jlong comm, jboolean abort) {
    (void)cls;
    if (comm == 0 || nc.library == NULL) return;
    ncclComm_t c = (ncclComm_t)(intptr_t)comm;
    if (abort) ok(env, nc.abort(c), NULL, "ncclCommAbort");
    else ok(env, nc.destroy(c), NULL, "ncclCommDestroy");
}
