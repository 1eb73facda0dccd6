/* Branch-free scalar math shared by the host-side kernels of libd2v_cpu, written so that loops
 * over them vectorise (libm's expf is a call per element), and the Philox stream of kernels/d2v.h. */
#ifndef D2V_HOST_MATH_H
#define D2V_HOST_MATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp for erf (openblas.c) and softmax (attention.c), branch-free so that the epilogue vectorises (libm's expf is a call per
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

/* Philox4x32-10 of kernels/d2v.h: block b of the stream keyed by seed, words w0..w3. */
#define PHILOX(block, seed, w0, w1, w2, w3)                                                          \
    do {                                                                                             \
        uint32_t c0 = (uint32_t)(block), c1 = (uint32_t)((block) >> 32), c2 = 0u, c3 = 0u;           \
        uint32_t k0 = (uint32_t)(seed), k1 = (uint32_t)((seed) >> 32);                               \
        _Pragma("GCC unroll 10") for (int round = 0; round < 10; round++) {                         \
            uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;               \
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;       \
            c0 = n0, c1 = (uint32_t)p1, c2 = n2, c3 = (uint32_t)p0;                                  \
            k0 += 0x9E3779B9u, k1 += 0xBB67AE85u; /* the next round's key (unused after the last) */ \
        }                                                                                            \
        (w0) = c0, (w1) = c1, (w2) = c2, (w3) = c3;                                                  \
    } while (0)

#endif
