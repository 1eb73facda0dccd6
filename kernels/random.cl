/* Philox streams (org.d2v.backend.Philox): element e of uniform/dropout reads word e mod 4 of block
   offset + e/4; element e of normal reads block offset + e/2, words (0, 1) or (2, 3). One work item
   per block. The seed's halves are the key. Tensors are ACT (d2v.h): fp32 for parameters' initial
   values, bf16 for the decoder's noise in a bf16 model. */

/* y (+)= x · keep / (1 − p): keep when the word is not below threshold = floor(p·2³²) (its bits in an int).
   Serves dropout (accumulate 0) and its backward (same mask, dy → dx). */
KERNEL void dropout(int n, GLOBAL const ACT *x, int xo, GLOBAL ACT *y, int yo, int threshold, float scale,
                    I64 seed, I64 offset, int accumulate) {
    int blk = GID(0);
    if (blk >= (n + 3) / 4) return;
    U32 w[4];
    d2v_philox((U64) offset + (U64) blk, (U64) seed, w);
    for (int q = 0; q < 4; q++) {
        int e = blk * 4 + q;
        if (e >= n) break;
        float v = w[q] >= (U32) threshold ? ACT_LD(x[xo + e]) * scale : 0.0f;
        y[yo + e] = ACT_ST(accumulate ? ACT_LD(y[yo + e]) + v : v);
    }
}

/* out[e] = (word >> 8)·2⁻²⁴ ∈ [0, 1). */
KERNEL void uniform(int n, GLOBAL ACT *out, int oo, I64 seed, I64 offset) {
    int blk = GID(0);
    if (blk >= (n + 3) / 4) return;
    U32 w[4];
    d2v_philox((U64) offset + (U64) blk, (U64) seed, w);
    for (int q = 0; q < 4; q++) {
        int e = blk * 4 + q;
        if (e < n) out[oo + e] = ACT_ST((float) (w[q] >> 8) * 5.9604644775390625e-8f);
    }
}

/* z = sqrt(−2 ln u1)·cos(2π u2) (Box–Muller in float) from two Philox words. */
DEVICE_FN float d2v_box_muller(U32 a, U32 b) {
    float u1 = (float) ((a >> 8) + 1u) * 5.9604644775390625e-8f;
    float u2 = (float) (b >> 8) * 5.9604644775390625e-8f;
    return SQRT(-2.0f * LOG(u1)) * COSPI(2.0f * u2); // cospi: 2·u2 is exact, no rounded 2π
}

/* out[e] = mean + std·z: even elements from words (0, 1), odd ones from (2, 3) of block offset + e/2. */
KERNEL void normal(int n, GLOBAL ACT *out, int oo, float mean, float std, I64 seed, I64 offset) {
    int blk = GID(0);
    if (blk >= (n + 1) / 2) return;
    U32 w[4];
    d2v_philox((U64) offset + (U64) blk, (U64) seed, w);
    int e = blk * 2;
    out[oo + e] = ACT_ST(mean + std * d2v_box_muller(w[0], w[1]));
    if (e + 1 < n) out[oo + e + 1] = ACT_ST(mean + std * d2v_box_muller(w[2], w[3]));
}
