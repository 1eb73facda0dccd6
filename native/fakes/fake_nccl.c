/* A CPU stand-in for the part of NCCL's C API that d2v binds, for tests without a GPU: one rank
 * only (a sum over one rank is a copy), host pointers for device pointers, the stream ignored.
 * It returns NCCL's error codes (and a last-error text) for what NCCL rejects, so the binding's
 * loading, argument passing and error reporting run for real; nothing here says anything about
 * NCCL on GPUs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../gpu/vendor_api.h"

#define EXPORT __attribute__((visibility("default")))
enum { SYSTEM_ERROR = 2, INVALID_ARGUMENT = 4, INVALID_USAGE = 5 };

static char last_error[256];

static ncclResult_t fail(ncclResult_t r, const char *why) {
    snprintf(last_error, sizeof last_error, "%s", why);
    return r;
}

static size_t type_size(int type) {
    switch (type) {
        case 0: case 1: return 1;
        case 6: case 9: return 2;
        case 2: case 3: case 7: return 4;
        case 4: case 5: case 8: return 8;
        default: return 0;
    }
}

typedef struct { int rank; int aborted; } comm_t;

EXPORT ncclResult_t ncclGetVersion(int *version) { *version = 29901; return ncclSuccess; }
EXPORT ncclResult_t ncclGetUniqueId(ncclUniqueId *id) {
    memset(id, 0, sizeof *id);
    snprintf(id->internal, sizeof id->internal, "fake-nccl:%d", (int)getpid());
    return ncclSuccess;
}
EXPORT ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank) {
    if (strncmp(id.internal, "fake-nccl:", 10) != 0) return fail(INVALID_ARGUMENT, "unique id was not made by ncclGetUniqueId");
    if (nranks != 1 || rank != 0) return fail(INVALID_USAGE, "the CPU stand-in of NCCL runs one rank only");
    comm_t *c = calloc(1, sizeof *c);
    *comm = c;
    return ncclSuccess;
}
static ncclResult_t copy(const void *send, void *recv, size_t count, int type, ncclComm_t comm) {
    size_t size = type_size(type);
    if (comm == NULL) return fail(INVALID_ARGUMENT, "null communicator");
    if (size == 0) return fail(INVALID_ARGUMENT, "invalid data type");
    if (count > 0 && (send == NULL || recv == NULL)) return fail(INVALID_ARGUMENT, "null buffer");
    if (send != recv && count > 0) memmove(recv, send, count * size);
    return ncclSuccess;
}
EXPORT ncclResult_t ncclAllReduce(const void *send, void *recv, size_t count, int type, int op, ncclComm_t comm,
                                  cudaStream_t stream) {
    (void)stream;
    if (op < 0 || op > 4) return fail(INVALID_ARGUMENT, "invalid reduction operation");
    return copy(send, recv, count, type, comm);
}
EXPORT ncclResult_t ncclBroadcast(const void *send, void *recv, size_t count, int type, int root, ncclComm_t comm,
                                  cudaStream_t stream) {
    (void)stream;
    if (root != 0) return fail(INVALID_ARGUMENT, "root is not a rank of the communicator");
    return copy(send, recv, count, type, comm);
}
EXPORT ncclResult_t ncclCommDestroy(ncclComm_t comm) { free(comm); return ncclSuccess; }
EXPORT ncclResult_t ncclCommAbort(ncclComm_t comm) { free(comm); return ncclSuccess; }
EXPORT ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *error) {
    *error = ((comm_t *)comm)->aborted ? SYSTEM_ERROR : ncclSuccess;
    return ncclSuccess;
}
EXPORT const char *ncclGetErrorString(ncclResult_t r) {
    switch (r) {
        case ncclSuccess: return "no error";
        case SYSTEM_ERROR: return "unhandled system error";
        case INVALID_ARGUMENT: return "invalid argument";
        case INVALID_USAGE: return "invalid usage";
        default: return "unknown result code";
    }
}
EXPORT const char *ncclGetLastError(ncclComm_t comm) { (void)comm; return last_error; }
