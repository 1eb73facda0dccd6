/* The few types, enums and prototypes of cuBLASLt, NCCL and the CUDA driver that d2v calls,
 * declared by hand from the vendors' public API documentation so that building needs no CUDA
 * headers; the libraries themselves are opened with dlopen at run time. Values are part of each
 * library's stable ABI (cuBLASLt 12 and 13, NCCL 2, CUDA driver API v2 entry points). */
#ifndef D2V_VENDOR_API_H
#define D2V_VENDOR_API_H

#include <stddef.h>
#include <stdint.h>

typedef void *cudaStream_t; /* a CUstream: the driver and runtime handles are the same object */

/* ---- CUDA driver (only for the cuBLASLt workspace) ---- */
typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef CUresult (*cuMemAlloc_fn)(CUdeviceptr *dptr, size_t bytes);   /* cuMemAlloc_v2 */
typedef CUresult (*cuMemFree_fn)(CUdeviceptr dptr);                   /* cuMemFree_v2 */
typedef CUresult (*cuGetErrorString_fn)(CUresult error, const char **text);

/* ---- cuBLASLt ---- */
typedef int cublasStatus_t;
typedef void *cublasLtHandle_t;
typedef void *cublasLtMatmulDesc_t;
typedef void *cublasLtMatrixLayout_t;
typedef void *cublasLtMatmulPreference_t;
typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t;
typedef struct {
    cublasLtMatmulAlgo_t algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} cublasLtMatmulHeuristicResult_t;

enum { CUBLAS_STATUS_SUCCESS = 0 };
enum { CUDA_R_32F = 0, CUDA_R_16BF = 14 };                               /* cudaDataType */
enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 };     /* cublasComputeType_t */
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };                               /* cublasOperation_t */

enum { /* cublasLtMatmulDescAttributes_t */
    CUBLASLT_MATMUL_DESC_TRANSA = 3,
    CUBLASLT_MATMUL_DESC_TRANSB = 4,
    CUBLASLT_MATMUL_DESC_EPILOGUE = 7,
    CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8,
    CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER = 11,
    CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD = 12,
    CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE = 13,
    CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE = 26,
};
enum { /* cublasLtMatrixLayoutAttribute_t */
    CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = 5,
    CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6,
};
enum { /* cublasLtMatmulPreferenceAttributes_t */
    CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
    CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK = 3,
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8,
};
enum { /* cublasLtReductionScheme_t: split-K reductions through a workspace, never in place with atomics */
    CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE = 2,
    CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE = 4,
};
enum { /* cublasLtEpilogue_t */
    CUBLASLT_EPILOGUE_DEFAULT = 1,
    CUBLASLT_EPILOGUE_BIAS = 4,
    CUBLASLT_EPILOGUE_GELU_AUX_BIAS = 164,
    CUBLASLT_EPILOGUE_DGELU = 192,
    CUBLASLT_EPILOGUE_DGELU_BGRAD = 208,
    CUBLASLT_EPILOGUE_BGRADB = 512,
};

typedef cublasStatus_t (*cublasLtCreate_fn)(cublasLtHandle_t *handle);
typedef cublasStatus_t (*cublasLtDestroy_fn)(cublasLtHandle_t handle);
typedef size_t (*cublasLtGetVersion_fn)(void);
typedef const char *(*cublasLtGetStatusName_fn)(cublasStatus_t status);
typedef cublasStatus_t (*cublasLtMatmulDescCreate_fn)(cublasLtMatmulDesc_t *desc, int computeType, int scaleType);
typedef cublasStatus_t (*cublasLtMatmulDescDestroy_fn)(cublasLtMatmulDesc_t desc);
typedef cublasStatus_t (*cublasLtMatmulDescSetAttribute_fn)(cublasLtMatmulDesc_t desc, int attr, const void *buf,
                                                            size_t size);
typedef cublasStatus_t (*cublasLtMatrixLayoutCreate_fn)(cublasLtMatrixLayout_t *layout, int type, uint64_t rows,
                                                        uint64_t cols, int64_t ld);
typedef cublasStatus_t (*cublasLtMatrixLayoutDestroy_fn)(cublasLtMatrixLayout_t layout);
typedef cublasStatus_t (*cublasLtMatrixLayoutSetAttribute_fn)(cublasLtMatrixLayout_t layout, int attr,
                                                              const void *buf, size_t size);
typedef cublasStatus_t (*cublasLtMatmulPreferenceCreate_fn)(cublasLtMatmulPreference_t *pref);
typedef cublasStatus_t (*cublasLtMatmulPreferenceDestroy_fn)(cublasLtMatmulPreference_t pref);
typedef cublasStatus_t (*cublasLtMatmulPreferenceSetAttribute_fn)(cublasLtMatmulPreference_t pref, int attr,
                                                                  const void *buf, size_t size);
typedef cublasStatus_t (*cublasLtMatmulAlgoGetHeuristic_fn)(
    cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
    cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d, cublasLtMatmulPreference_t pref, int requested,
    cublasLtMatmulHeuristicResult_t *results, int *returned);
typedef cublasStatus_t (*cublasLtMatmul_fn)(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha,
                                            const void *a, cublasLtMatrixLayout_t adesc, const void *b,
                                            cublasLtMatrixLayout_t bdesc, const void *beta, const void *c,
                                            cublasLtMatrixLayout_t cdesc, void *d, cublasLtMatrixLayout_t ddesc,
                                            const cublasLtMatmulAlgo_t *algo, void *workspace,
                                            size_t workspaceBytes, cudaStream_t stream);

/* ---- NCCL 2 ---- */
#define NCCL_UNIQUE_ID_BYTES 128
typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;
typedef void *ncclComm_t;
typedef int ncclResult_t;
enum { ncclSuccess = 0, ncclInProgress = 7 };
enum { ncclInt32 = 2, ncclFloat32 = 7, ncclFloat64 = 8, ncclBfloat16 = 9 }; /* ncclDataType_t */
enum { ncclSum = 0 };                                                      /* ncclRedOp_t */

typedef ncclResult_t (*ncclGetVersion_fn)(int *version);
typedef ncclResult_t (*ncclGetUniqueId_fn)(ncclUniqueId *id);
typedef ncclResult_t (*ncclCommInitRank_fn)(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank);
typedef ncclResult_t (*ncclAllReduce_fn)(const void *send, void *recv, size_t count, int datatype, int op,
                                         ncclComm_t comm, cudaStream_t stream);
typedef ncclResult_t (*ncclBroadcast_fn)(const void *send, void *recv, size_t count, int datatype, int root,
                                         ncclComm_t comm, cudaStream_t stream);
typedef ncclResult_t (*ncclCommDestroy_fn)(ncclComm_t comm);
typedef ncclResult_t (*ncclCommAbort_fn)(ncclComm_t comm);
typedef ncclResult_t (*ncclCommGetAsyncError_fn)(ncclComm_t comm, ncclResult_t *error);
typedef const char *(*ncclGetErrorString_fn)(ncclResult_t result);
typedef const char *(*ncclGetLastError_fn)(ncclComm_t comm); /* NCCL >= 2.13; optional */

#endif
