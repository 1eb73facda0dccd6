/* JNI bindings of org.d2v.jni.Mpi over the MPI C API (built with mpicc; Open MPI or MPICH).
 *
 * Thin on purpose: every entry point does one MPI call (or a nonblocking call and its wait) and
 * turns a failure into an org.d2v.jni.MpiException carrying MPI's own error string. Errors come
 * back instead of killing the process because MPI_COMM_WORLD gets MPI_ERRORS_RETURN at init.
 *
 * Timeouts: a collective with timeout > 0 is started nonblocking (MPI_Iallreduce, MPI_Ibcast,
 * MPI_Ibarrier) and polled with MPI_Test until it completes or the deadline passes. A collective
 * cannot be cancelled, so a timed-out one leaves the process unable to communicate; the Java side
 * then aborts the job (MpiException.timedOut() tells it so). timeout <= 0 waits forever in the
 * blocking call. */
#include <dlfcn.h>
#include <errno.h>
#include <jni.h>
#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/d2v_jni.h"

#define MPI_EXCEPTION "org/d2v/jni/MpiException"

/* Element type codes shared with org.d2v.jni.Mpi.Type (ordinal order). */
enum { T_F32 = 0, T_F64 = 1, T_I32 = 2, T_I64 = 3, T_I8 = 4, T_COUNT = 5 };

static int world_rank = -1;
static int world_size = 0;
static int local_rank = -1;
static int local_size = 0;
static MPI_Comm local_comm = MPI_COMM_NULL;
/* A private copy of MPI_COMM_WORLD for the barrier before MPI_Finalize: on its own communicator it
 * can never be matched with a collective that another rank is still waiting in. */
static MPI_Comm close_comm = MPI_COMM_NULL;

/* A JVM loads JNI libraries with RTLD_LOCAL, and with them libmpi. Open MPI opens its components
 * (shared-memory transport, launcher glue, ...) with dlopen as well, and some expect libmpi's
 * symbols to be global. Re-opening the already loaded libmpi with RTLD_GLOBAL fixes that, and
 * finding it through dladdr keeps the file name out of this code. */
JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)vm;
    (void)reserved;
    Dl_info info;
    if (dladdr((void *)&MPI_Init_thread, &info) != 0 && info.dli_fname != NULL) {
        dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    }
    return JNI_VERSION_1_8;
}

static MPI_Datatype datatype(int type) {
    switch (type) {
        case T_F32: return MPI_FLOAT;
        case T_F64: return MPI_DOUBLE;
        case T_I32: return MPI_INT;
        case T_I64: return MPI_LONG_LONG;
        case T_I8: return MPI_SIGNED_CHAR;
        default: return MPI_DATATYPE_NULL;
    }
}

static size_t type_size(int type) {
    static const size_t sizes[T_COUNT] = {4, 8, 4, 8, 1};
    return type >= 0 && type < T_COUNT ? sizes[type] : 0;
}

static const char *type_name(int type) {
    static const char *names[T_COUNT] = {"float32", "float64", "int32", "int64", "int8"};
    return type >= 0 && type < T_COUNT ? names[type] : "?";
}

static void throw_mpi(JNIEnv *env, int timed_out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void throw_mpi(JNIEnv *env, int timed_out, const char *fmt, ...) {
    if ((*env)->ExceptionCheck(env)) return;
    char message[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    jclass cls = (*env)->FindClass(env, MPI_EXCEPTION);
    if (cls == NULL) return;
    jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", "(Ljava/lang/String;Z)V");
    if (ctor == NULL) return;
    jstring text = (*env)->NewStringUTF(env, message);
    if (text == NULL) return;
    jobject e = (*env)->NewObject(env, cls, ctor, text, (jboolean)(timed_out != 0));
    if (e != NULL) (*env)->Throw(env, (jthrowable)e);
}

static void error_text(int rc, char *out, size_t cap) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = snprintf(text, sizeof text, "MPI error %d", rc);
    snprintf(out, cap, "%.*s", len, text);
}

/* Throws for rc != MPI_SUCCESS; returns 1 when the call succeeded. */
static int check(JNIEnv *env, int rc, const char *what) {
    if (rc == MPI_SUCCESS) return 1;
    char text[MPI_MAX_ERROR_STRING];
    error_text(rc, text, sizeof text);
    throw_mpi(env, 0, "mpi: %s failed on rank %d of %d: %s", what, world_rank, world_size, text);
    return 0;
}

static int require_init(JNIEnv *env, const char *what) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) return 1;
    throw_mpi(env, 0, "mpi: %s called %s", what, finalized ? "after MPI_Finalize" : "before MPI init");
    return 0;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for `request`; with timeout > 0 polls until the deadline. Sleeps between polls after a
 * short spin: ranks are often oversubscribed (two per core in CI), and a spinning waiter steals
 * the core from the peer it waits for. Returns 1 on completion, 0 on an exception thrown. */
static int wait_for(JNIEnv *env, MPI_Request *request, double timeout, const char *what) {
    if (timeout <= 0) return check(env, MPI_Wait(request, MPI_STATUS_IGNORE), what);
    double deadline = now_seconds() + timeout;
    long polls = 0;
    long pause_ns = 2000;
    for (;;) {
        int done = 0;
        if (!check(env, MPI_Test(request, &done, MPI_STATUS_IGNORE), what)) return 0;
        if (done) return 1;
        if (now_seconds() > deadline) {
            throw_mpi(env, 1, "mpi: %s on rank %d of %d did not complete within %.1f s "
                      "(a peer died, hangs, or is far behind)", what, world_rank, world_size, timeout);
            return 0;
        }
        if (++polls > 200) {
            struct timespec pause = {0, pause_ns};
            nanosleep(&pause, NULL);
            if (pause_ns < 250000) pause_ns *= 2;
        }
    }
}

/* One collective on `count` elements at `data`, in chunks that fit MPI's int counts. */
typedef enum { ALLREDUCE, BROADCAST } op_t;

static int run_collective(JNIEnv *env, op_t op, char *data, jlong count, int type, int root, double timeout) {
    MPI_Datatype dt = datatype(type);
    size_t size = type_size(type);
    if (dt == MPI_DATATYPE_NULL) {
        throw_mpi(env, 0, "mpi: unknown element type code %d", type);
        return 0;
    }
    if (op == BROADCAST && (root < 0 || root >= world_size)) {
        throw_mpi(env, 0, "mpi: broadcast root %d is not a rank of %d", root, world_size);
        return 0;
    }
    const jlong chunk = 1L << 30;
    for (jlong first = 0; first < count || (count == 0 && first == 0); first += chunk) {
        int n = (int)(count - first < chunk ? count - first : chunk);
        char *at = data + (size_t)first * size;
        char what[160];
        MPI_Request request;
        int rc;
        if (op == ALLREDUCE) {
            snprintf(what, sizeof what, "all-reduce (sum) of %lld %s", (long long)count, type_name(type));
            rc = timeout > 0 ? MPI_Iallreduce(MPI_IN_PLACE, at, n, dt, MPI_SUM, MPI_COMM_WORLD, &request)
                             : MPI_Allreduce(MPI_IN_PLACE, at, n, dt, MPI_SUM, MPI_COMM_WORLD);
        } else {
            snprintf(what, sizeof what, "broadcast of %lld %s from rank %d", (long long)count, type_name(type), root);
            rc = timeout > 0 ? MPI_Ibcast(at, n, dt, root, MPI_COMM_WORLD, &request)
                             : MPI_Bcast(at, n, dt, root, MPI_COMM_WORLD);
        }
        if (!check(env, rc, what)) return 0;
        if (timeout > 0 && !wait_for(env, &request, timeout, what)) return 0;
        if (count == 0) break;
    }
    return 1;
}

static char *direct_address(JNIEnv *env, jobject buffer, jlong byte_offset, jlong count, int type) {
    if (buffer == NULL) {
        throw_mpi(env, 0, "mpi: null buffer");
        return NULL;
    }
    char *base = (char *)(*env)->GetDirectBufferAddress(env, buffer);
    jlong capacity = (*env)->GetDirectBufferCapacity(env, buffer);
    if (base == NULL || capacity < 0) {
        throw_mpi(env, 0, "mpi: the buffer is not a direct buffer (allocate it with ByteBuffer.allocateDirect)");
        return NULL;
    }
    size_t size = type_size(type);
    if (size == 0 || byte_offset < 0 || count < 0 || byte_offset + count * (jlong)size > capacity) {
        throw_mpi(env, 0, "mpi: %lld %s at byte %lld do not fit a direct buffer of %lld bytes",
                  (long long)count, type_name(type), (long long)byte_offset, (long long)capacity);
        return NULL;
    }
    return base + byte_offset;
}

/* Java arrays are copied to native memory around the collective rather than pinned: pinning
 * (GetPrimitiveArrayCritical) would hold off the garbage collector for the whole wait, and with
 * it every thread that allocates, the watchdog included. */
static int array_collective(JNIEnv *env, op_t op, jarray array, jint offset, jint length, int type,
                            int root, double timeout) {
    if (array == NULL) {
        throw_mpi(env, 0, "mpi: null array");
        return 0;
    }
    jsize total = (*env)->GetArrayLength(env, array);
    if (offset < 0 || length < 0 || offset > total - length) {
        throw_mpi(env, 0, "mpi: %d elements at %d outside an array of %d", length, offset, total);
        return 0;
    }
    size_t size = type_size(type);
    char *copy = malloc(length == 0 ? 1 : (size_t)length * size);
    if (copy == NULL) {
        throw_mpi(env, 0, "mpi: cannot allocate %lld bytes to stage an array", (long long)length * (long long)size);
        return 0;
    }
    switch (type) {
        case T_F32: (*env)->GetFloatArrayRegion(env, (jfloatArray)array, offset, length, (jfloat *)copy); break;
        case T_F64: (*env)->GetDoubleArrayRegion(env, (jdoubleArray)array, offset, length, (jdouble *)copy); break;
        case T_I32: (*env)->GetIntArrayRegion(env, (jintArray)array, offset, length, (jint *)copy); break;
        case T_I64: (*env)->GetLongArrayRegion(env, (jlongArray)array, offset, length, (jlong *)copy); break;
        case T_I8: (*env)->GetByteArrayRegion(env, (jbyteArray)array, offset, length, (jbyte *)copy); break;
        default: free(copy); throw_mpi(env, 0, "mpi: unknown element type code %d", type); return 0;
    }
    int ok = !(*env)->ExceptionCheck(env) && run_collective(env, op, copy, length, type, root, timeout);
    if (ok) {
        switch (type) {
            case T_F32: (*env)->SetFloatArrayRegion(env, (jfloatArray)array, offset, length, (jfloat *)copy); break;
            case T_F64: (*env)->SetDoubleArrayRegion(env, (jdoubleArray)array, offset, length, (jdouble *)copy); break;
            case T_I32: (*env)->SetIntArrayRegion(env, (jintArray)array, offset, length, (jint *)copy); break;
            case T_I64: (*env)->SetLongArrayRegion(env, (jlongArray)array, offset, length, (jlong *)copy); break;
            default: (*env)->SetByteArrayRegion(env, (jbyteArray)array, offset, length, (jbyte *)copy); break;
        }
    }
    free(copy);
    return ok;
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

JNIEXPORT jint JNICALL Java_org_d2v_jni_Mpi_nativeInit(JNIEnv *env, jclass cls, jint level) {
    (void)cls;
    static const int levels[4] = {MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED, MPI_THREAD_MULTIPLE};
    if (level < 0 || level > 3) {
        throw_mpi(env, 0, "mpi: unknown thread level %d", level);
        return -1;
    }
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) {
        throw_mpi(env, 0, "mpi: already initialised (MPI can be initialised once per process)");
        return -1;
    }
    /* Open MPI catches SIGSEGV/SIGBUS/SIGFPE/SIGILL to print a stack trace; the JVM raises SIGSEGV
     * on purpose (implicit null checks, safepoint polls) and must keep handling it. An empty list
     * keeps Open MPI's hands off those signals unless the user asked for them. */
    setenv("OMPI_MCA_opal_signal", "", 0);
    int provided = -1;
    int rc = MPI_Init_thread(NULL, NULL, levels[level], &provided);
    if (rc != MPI_SUCCESS) {
        char text[MPI_MAX_ERROR_STRING];
        error_text(rc, text, sizeof text);
        throw_mpi(env, 0, "mpi: MPI_Init_thread failed: %s", text);
        return -1;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    /* The ranks that share this node's memory: local rank picks the GPU. */
    if (!check(env, MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &local_comm),
               "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)")) return -1;
    MPI_Comm_set_errhandler(local_comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(local_comm, &local_rank);
    MPI_Comm_size(local_comm, &local_size);
    if (!check(env, MPI_Comm_dup(MPI_COMM_WORLD, &close_comm), "MPI_Comm_dup")) return -1;
    MPI_Comm_set_errhandler(close_comm, MPI_ERRORS_RETURN);
    for (int i = 0; i < 4; i++) if (levels[i] == provided) return i;
    return 0;
}

JNIEXPORT jboolean JNICALL Java_org_d2v_jni_Mpi_nativeInitialized(JNIEnv *env, jclass cls) {
    (void)env; (void)cls;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return (jboolean)(initialized && !finalized);
}

/* MPI_Finalize waits for every rank. A rank that finalizes while another still waits in a
 * collective (it failed, or left a loop early) would wait forever, and so would its peer. With
 * timeout > 0 every rank first meets the others in a barrier on close_comm, and a barrier that
 * times out throws (timedOut) instead, so that Java can abort the job rather than hang. */
JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeFinalize(JNIEnv *env, jclass cls, jdouble timeout) {
    (void)cls;
    if (!require_init(env, "finalize")) return;
    if (timeout > 0 && close_comm != MPI_COMM_NULL) {
        MPI_Request request;
        if (!check(env, MPI_Ibarrier(close_comm, &request), "the barrier before MPI_Finalize")) return;
        if (!wait_for(env, &request, timeout, "the barrier before MPI_Finalize (every rank closes the communicator)"))
            return;
    }
    if (close_comm != MPI_COMM_NULL) MPI_Comm_free(&close_comm);
    if (local_comm != MPI_COMM_NULL) MPI_Comm_free(&local_comm);
    check(env, MPI_Finalize(), "MPI_Finalize");
}

JNIEXPORT jintArray JNICALL Java_org_d2v_jni_Mpi_nativeRanks(JNIEnv *env, jclass cls) {
    (void)cls;
    if (!require_init(env, "rank/size")) return NULL;
    jint values[4] = {world_rank, world_size, local_rank, local_size};
    jintArray out = (*env)->NewIntArray(env, 4);
    if (out != NULL) (*env)->SetIntArrayRegion(env, out, 0, 4, values);
    return out;
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_Mpi_nativeLibraryVersion(JNIEnv *env, jclass cls) {
    (void)cls;
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len); /* callable before init */
    char *newline = memchr(version, '\n', (size_t)len);
    if (newline != NULL) len = (int)(newline - version);
    while (len > 0 && (version[len - 1] == ',' || version[len - 1] == ' ' || version[len - 1] == '\0')) len--;
    version[len] = '\0';
    return (*env)->NewStringUTF(env, version);
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_Mpi_nativeProcessorName(JNIEnv *env, jclass cls) {
    (void)cls;
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    if (!require_init(env, "processor name")) return NULL;
    if (!check(env, MPI_Get_processor_name(name, &len), "MPI_Get_processor_name")) return NULL;
    name[len] = '\0';
    return (*env)->NewStringUTF(env, name);
}

JNIEXPORT jstring JNICALL Java_org_d2v_jni_Mpi_nativeErrorString(JNIEnv *env, jclass cls, jint code) {
    (void)cls;
    char text[MPI_MAX_ERROR_STRING];
    error_text(code, text, sizeof text);
    return (*env)->NewStringUTF(env, text);
}

/* ---- collectives ------------------------------------------------------------------------------ */

JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeAllReduceBuffer(JNIEnv *env, jclass cls, jobject buffer,
                                                                  jlong byte_offset, jlong count, jint type,
                                                                  jdouble timeout) {
    (void)cls;
    if (!require_init(env, "all-reduce")) return;
    char *at = direct_address(env, buffer, byte_offset, count, type);
    if (at != NULL) run_collective(env, ALLREDUCE, at, count, type, 0, timeout);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeBroadcastBuffer(JNIEnv *env, jclass cls, jobject buffer,
                                                                  jlong byte_offset, jlong count, jint type,
                                                                  jint root, jdouble timeout) {
    (void)cls;
    if (!require_init(env, "broadcast")) return;
    char *at = direct_address(env, buffer, byte_offset, count, type);
    if (at != NULL) run_collective(env, BROADCAST, at, count, type, root, timeout);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeAllReduceArray(JNIEnv *env, jclass cls, jarray array, jint offset,
                                                                 jint length, jint type, jdouble timeout) {
    (void)cls;
    if (!require_init(env, "all-reduce")) return;
    array_collective(env, ALLREDUCE, array, offset, length, type, 0, timeout);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeBroadcastArray(JNIEnv *env, jclass cls, jarray array, jint offset,
                                                                 jint length, jint type, jint root, jdouble timeout) {
    (void)cls;
    if (!require_init(env, "broadcast")) return;
    array_collective(env, BROADCAST, array, offset, length, type, root, timeout);
}

JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeBarrier(JNIEnv *env, jclass cls, jdouble timeout) {
    (void)cls;
    if (!require_init(env, "barrier")) return;
    if (timeout <= 0) {
        check(env, MPI_Barrier(MPI_COMM_WORLD), "barrier");
        return;
    }
    MPI_Request request;
    if (check(env, MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier")) wait_for(env, &request, timeout, "barrier");
}

/* Ends every rank: prints who and why (stderr, flushed: MPI_Abort does not return), then
 * MPI_Abort, which makes the launcher kill the other ranks and exit with `code`. */
JNIEXPORT void JNICALL Java_org_d2v_jni_Mpi_nativeAbort(JNIEnv *env, jclass cls, jint code, jstring message) {
    (void)cls;
    const char *text = message == NULL ? NULL : (*env)->GetStringUTFChars(env, message, NULL);
    fflush(stdout);
    fprintf(stderr, "d2v: rank %d of %d aborting the job (exit code %d): %s\n", world_rank, world_size, (int)code,
            text == NULL ? "(no reason given)" : text);
    fflush(stderr);
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code == 0 ? 1 : code); /* not initialised (or MPI_Abort returned): end this process at least */
}
