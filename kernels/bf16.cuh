/*
 * bf16.cuh — bf16 storage for the CUDA-only kernels (kernels/*.cu), written once.
 *
 * A bf16 tensor is stored as 16-bit integers (`unsigned short`): the upper half of the float32 bit
 * pattern. Up: a shift. Down: round to nearest, ties to even, on the integer bits (NaN stays a quiet
 * NaN). This is the rule d2v prescribes for bf16 storage on every backend (the portable dialect's
 * bf16 helper, when it lands, and the reference backend's rounding points), so a fast kernel and its
 * portable twin round every stored value identically. On the device the pair conversion uses
 * `cvt.rn.bf16x2.f32` (one instruction for two values), which rounds the same way for every
 * non-NaN input (NaN payloads may differ; NaN stays NaN). bf16_round_bits is the reference form.
 *
 * Vector helpers move 8 bf16 (16 bytes) or 4 floats (16 bytes) per access: the memory-bound
 * kernels are written over "units" of 8 elements whatever the dtype (one 16-byte access for bf16,
 * two for float).
 */
#ifndef D2V_BF16_CUH
#define D2V_BF16_CUH

typedef unsigned short bf16_t;

/* float32 bits -> bf16 bits, round to nearest even (the reference rule). */
static __host__ __device__ __forceinline__ unsigned int bf16_round_bits(unsigned int u) {
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x0040u; /* NaN: keep it quiet */
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

static __device__ __forceinline__ float bf16_to_float(unsigned short h) {
    return __uint_as_float(((unsigned int) h) << 16);
}

static __device__ __forceinline__ unsigned short float_to_bf16(float f) {
    return (unsigned short) bf16_round_bits(__float_as_uint(f));
}

/* Two floats -> one 32-bit word of two bf16, lo in the low half (the element at the lower address). */
static __device__ __forceinline__ unsigned int pack_bf16x2(float lo, float hi) {
#if defined(D2V_EMULATION)
    return bf16_round_bits(__float_as_uint(lo)) | (bf16_round_bits(__float_as_uint(hi)) << 16);
#else
    unsigned int r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo)); /* a -> upper half, b -> lower */
    return r;
#endif
}

static __device__ __forceinline__ float bf16_lo(unsigned int w) { return __uint_as_float(w << 16); }
static __device__ __forceinline__ float bf16_hi(unsigned int w) { return __uint_as_float(w & 0xffff0000u); }

/* ---------------------------------------------------------------- 8-element units */

/* Loads 8 consecutive elements as floats; p must be 16-byte aligned. */
static __device__ __forceinline__ void load8(const unsigned short *p, float (&v)[8]) {
    const uint4 w = *(const uint4 *) p;
    v[0] = bf16_lo(w.x); v[1] = bf16_hi(w.x); v[2] = bf16_lo(w.y); v[3] = bf16_hi(w.y);
    v[4] = bf16_lo(w.z); v[5] = bf16_hi(w.z); v[6] = bf16_lo(w.w); v[7] = bf16_hi(w.w);
}

static __device__ __forceinline__ void load8(const float *p, float (&v)[8]) {
    const float4 a = *(const float4 *) p, b = *(const float4 *) (p + 4);
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}

static __device__ __forceinline__ void store8(unsigned short *p, const float (&v)[8]) {
    uint4 w;
    w.x = pack_bf16x2(v[0], v[1]); w.y = pack_bf16x2(v[2], v[3]);
    w.z = pack_bf16x2(v[4], v[5]); w.w = pack_bf16x2(v[6], v[7]);
    *(uint4 *) p = w;
}

static __device__ __forceinline__ void store8(float *p, const float (&v)[8]) {
    *(float4 *) p = make_float4(v[0], v[1], v[2], v[3]);
    *(float4 *) (p + 4) = make_float4(v[4], v[5], v[6], v[7]);
}

/* Scalar access in either dtype (tails and unaligned paths). */
static __device__ __forceinline__ float load1(const unsigned short *p) { return bf16_to_float(*p); }
static __device__ __forceinline__ float load1(const float *p) { return *p; }
static __device__ __forceinline__ void store1(unsigned short *p, float v) { *p = float_to_bf16(v); }
static __device__ __forceinline__ void store1(float *p, float v) { *p = v; }

/* Elements per 16 bytes, and whether a pointer is 16-byte aligned. */
template <class T> struct Vec16 { static const int n = 16 / (int) sizeof(T); };

static __device__ __forceinline__ bool aligned16(const void *p) {
    return (((unsigned long long) p) & 15ull) == 0ull;
}

#endif
