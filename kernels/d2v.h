/*
 * d2v.h — the portable kernel dialect. Every kernels/X.cl is written against these macros only, so
 * the same text compiles as OpenCL C 1.2 (the OpenCL runtime prepends this header) and as CUDA C++
 * (nvcc -x cu -include kernels/d2v.h). Keep it small: anything an API lacks is not in the dialect.
 *
 * Kernel parameters: a tensor is a GLOBAL pointer plus an int element offset (OpenCL cannot offset
 * a buffer on the host side), see org.d2v.backend.kernel.KernelRuntime.
 *
 * Rules that keep one text valid for both compilers:
 *  - kernels are `KERNEL void name(...)`; helpers are `DEVICE_FN`; no templates, overloads or C++;
 *  - local memory only through LOCAL_ARRAY at kernel scope; pass it to helpers as `LOCAL float *`;
 *  - every work item of a group reaches every BARRIER (no early return before one);
 *  - use the float math macros below (EXP, LOG, ...), never expf/exp directly, and float literals;
 *  - index products that can pass 2^31 go through I64;
 *  - tensors that hold activations are `ACT *` and go through ACT_LD/ACT_ST (see "storage
 *    flavours" below): the same text then serves fp32 and bf16 storage.
 */
#ifndef D2V_H
#define D2V_H

#ifdef __CUDACC__
/* ---------------------------------------------------------------- CUDA C++ */
#define KERNEL extern "C" __global__
#define DEVICE_FN static __device__ __forceinline__
#define GLOBAL
#define LOCAL
#define CONSTANT const
#define LOCAL_ARRAY(type, name, n) __shared__ type name[n]
#define BARRIER() __syncthreads()

typedef long long I64;
typedef unsigned int U32;
typedef unsigned long long U64;
typedef unsigned short U16;
#define AS_UINT(x) __float_as_uint(x)
#define AS_FLOAT(x) __uint_as_float(x)

DEVICE_FN int d2v_dim3(uint3 v, int d) { return d == 0 ? (int) v.x : d == 1 ? (int) v.y : (int) v.z; }
DEVICE_FN int d2v_dim3d(dim3 v, int d) { return d == 0 ? (int) v.x : d == 1 ? (int) v.y : (int) v.z; }
#define LID(d) d2v_dim3(threadIdx, d)
#define GROUP_ID(d) d2v_dim3(blockIdx, d)
#define LOCAL_SIZE(d) d2v_dim3d(blockDim, d)
#define NUM_GROUPS(d) d2v_dim3d(gridDim, d)
#define GID(d) (GROUP_ID(d) * LOCAL_SIZE(d) + LID(d))
#define GLOBAL_SIZE(d) (NUM_GROUPS(d) * LOCAL_SIZE(d))

#define EXP(x) expf(x)
#define LOG(x) logf(x)
#define LOG1P(x) log1pf(x)
#define SQRT(x) sqrtf(x)
#define RSQRT(x) rsqrtf(x)
#define ERF(x) erff(x)
#define ERFC(x) erfcf(x)
#define FMA(a, b, c) fmaf(a, b, c)
#define FABS(x) fabsf(x)
#define FMAX(a, b) fmaxf(a, b)
#define FMIN(a, b) fminf(a, b)
#define COS(x) cosf(x)
#define COSPI(x) cospif(x)
#define POW(a, b) powf(a, b)
#define MULHI(a, b) __umulhi(a, b)
#define D2V_INF __int_as_float(0x7f800000)
#define D2V_NAN __int_as_float(0x7fc00000)

#else
/* ---------------------------------------------------------------- OpenCL C 1.2 */
#define KERNEL __kernel
#define DEVICE_FN static inline
#define GLOBAL __global
#define LOCAL __local
#define CONSTANT __constant
#define LOCAL_ARRAY(type, name, n) __local type name[n]
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)

typedef long I64;
typedef uint U32;
typedef ulong U64;
typedef ushort U16;
#define AS_UINT(x) as_uint(x)
#define AS_FLOAT(x) as_float(x)

#define GID(d) ((int) get_global_id(d))
#define LID(d) ((int) get_local_id(d))
#define GROUP_ID(d) ((int) get_group_id(d))
#define LOCAL_SIZE(d) ((int) get_local_size(d))
#define NUM_GROUPS(d) ((int) get_num_groups(d))
#define GLOBAL_SIZE(d) ((int) get_global_size(d))

#define EXP(x) exp(x)
#define LOG(x) log(x)
#define LOG1P(x) log1p(x)
#define SQRT(x) sqrt(x)
#define RSQRT(x) rsqrt(x)
#define ERF(x) d2v_erf(x)
#define ERFC(x) erfc(x)
#define FMA(a, b, c) fma(a, b, c)
#define FABS(x) fabs(x)
#define FMAX(a, b) fmax(a, b)
#define FMIN(a, b) fmin(a, b)
#define COS(x) cos(x)
#define COSPI(x) cospi(x)
#define POW(a, b) pow(a, b)
/* The high word of a 32×32 product through one 64-bit multiply: PoCL vectorises this across
   work-items (vpmuludq) but not mul_hi, which made Philox 2.5× slower on the CPU. Same bits. */
#define MULHI(a, b) ((uint) (((ulong) (uint) (a) * (ulong) (uint) (b)) >> 32))
#define D2V_INF INFINITY
#define D2V_NAN NAN

/* erf without a library call: PoCL compiles erf() to one scalar call per element (~40 ns), which
   made GELU 100x slower than it need be; this form vectorises. |x| < 0.5: the Taylor series of
   erf to x^13 (relative error < 1e-9 before rounding); otherwise 1 - erfc with
   erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2), P a degree-9 least-squares fit of ours over
   z in [0, 10] (the form of Numerical Recipes' erfcc). Worst error about 2 float ulps of erf,
   checked against double erf by KernelOpsSuite.geluDenseSweep. */
static inline float d2v_erf(float x) {
    float z = fabs(x), z2 = z * z;
    float small = 1.2055332e-4f;
    small = fma(small, z2, -8.5483270e-4f);
    small = fma(small, z2, 5.2239778e-3f);
    small = fma(small, z2, -2.6866172e-2f);
    small = fma(small, z2, 1.1283792e-1f);
    small = fma(small, z2, -3.7612638e-1f);
    small = fma(small, z2, 1.1283792f) * z;
    float t = 1.0f / fma(0.5f, z, 1.0f);
    float p = 1.4492863e-1f;
    p = fma(p, t, -6.8082184e-1f);
    p = fma(p, t, 1.1567287f);
    p = fma(p, t, -6.9625515e-1f);
    p = fma(p, t, -8.0269784e-2f);
    p = fma(p, t, 1.2578606e-3f);
    p = fma(p, t, 3.4607429e-2f);
    p = fma(p, t, 3.8663918e-1f);
    p = fma(p, t, 9.9863297e-1f);
    p = fma(p, t, -1.2654480f);
    float big = 1.0f - t * exp(p - z2);
    float e = z < 0.5f ? small : big;
    return x < 0.0f ? -e : e;
}
#endif

/* ---------------------------------------------------------------- bf16 storage */

/* bfloat16 is storage only: the top 16 bits of a float (sign, 8 exponent bits, 7 mantissa bits),
   held as a 16-bit integer, so no compiler needs a bf16 type (OpenCL 1.2 has none) and PoCL tests
   the very conversions a GPU runs. Up: a shift. Down: round to nearest, ties to even, on the bit
   pattern (carrying into the exponent rounds up to the next binade or to ±Inf, as it should); a NaN
   keeps its sign and top payload bits and is made quiet, so it never rounds to Inf. The same
   convention as the CUDA-only kernels (unsigned short, round-to-nearest-even) and as
   org.d2v.tensor.Bf16 on the host. */
typedef U16 BF16;

DEVICE_FN float d2v_bf16_to_float(BF16 h) { return AS_FLOAT(((U32) h) << 16); }

DEVICE_FN BF16 d2v_float_to_bf16(float f) {
    U32 u = AS_UINT(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (BF16) ((u >> 16) | 0x0040u);
    return (BF16) ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* Storage flavours. Every program is compiled once per flavour it uses (OpenCL: build options at
   run time; CUDA: one fatbin per flavour, kernels/build.sh), and org.d2v.backend.kernel.Flavour
   picks the flavour of each launch from the dtypes of its ACT and OUT tensors:
     f32       ACT = OUT = float                      (no define)
     bf16      ACT = OUT = bf16                       (-DD2V_ACT_BF16)
     bf16-f32  ACT = bf16, OUT = float                (-DD2V_ACT_BF16 -DD2V_OUT_F32)
   ACT is the storage of activations (inputs and outputs alike); OUT is the storage of a GEMM's
   result, which is an activation except where a bf16 product accumulates into fp32 parameter
   gradients. Statistics, partial sums, losses, masters and gradients are plain float pointers in
   every flavour. Arithmetic is always float: ACT_LD widens a stored value, ACT_ST rounds a float
   for storage (both the identity in the f32 flavour, which therefore compiles as before). */
#ifdef D2V_ACT_BF16
typedef BF16 ACT;
#define ACT_LD(v) d2v_bf16_to_float(v)
#define ACT_ST(x) d2v_float_to_bf16(x)
#else
typedef float ACT;
#define ACT_LD(v) (v)
#define ACT_ST(x) (x)
#endif
#if defined(D2V_ACT_BF16) && !defined(D2V_OUT_F32)
typedef BF16 OUT;
#define OUT_LD(v) d2v_bf16_to_float(v)
#define OUT_ST(x) d2v_float_to_bf16(x)
#else
typedef float OUT;
#define OUT_LD(v) (v)
#define OUT_ST(x) (x)
#endif

/* ---------------------------------------------------------------- shared helpers */

/* Tree reduction of LOCAL_SIZE(0) partial sums in buf (a power of two); every thread must call it.
   Returns the total to every thread. */
DEVICE_FN float d2v_block_sum(LOCAL float *buf, float v) {
    int lid = LID(0), n = LOCAL_SIZE(0);
    buf[lid] = v;
    BARRIER();
    for (int s = n / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] += buf[lid + s];
        BARRIER();
    }
    float total = buf[0];
    BARRIER();
    return total;
}

DEVICE_FN float d2v_block_max(LOCAL float *buf, float v) {
    int lid = LID(0), n = LOCAL_SIZE(0);
    buf[lid] = v;
    BARRIER();
    for (int s = n / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] = FMAX(buf[lid], buf[lid + s]);
        BARRIER();
    }
    float total = buf[0];
    BARRIER();
    return total;
}

/* GELU in the exact erf form and its derivative. */
DEVICE_FN float d2v_gelu(float x) { return 0.5f * x * (1.0f + ERF(x * 0.70710678118654752f)); }

DEVICE_FN float d2v_gelu_grad(float x) {
    float cdf = 0.5f * (1.0f + ERF(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * EXP(-0.5f * x * x);
    return cdf + x * pdf;
}

/* Philox4x32-10 (see org.d2v.backend.Philox): block b of the stream keyed by seed, word w (0..3). */
DEVICE_FN void d2v_philox(U64 block, U64 seed, U32 *out) {
    U32 c0 = (U32) block, c1 = (U32) (block >> 32), c2 = 0u, c3 = 0u;
    U32 k0 = (U32) seed, k1 = (U32) (seed >> 32);
    for (int round = 0; round < 10; round++) {
        if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        U32 lo0 = 0xD2511F53u * c0, hi0 = MULHI(0xD2511F53u, c0);
        U32 lo1 = 0xCD9E8D57u * c2, hi1 = MULHI(0xCD9E8D57u, c2);
        U32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

#endif
