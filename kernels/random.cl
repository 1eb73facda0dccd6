/* Philox streams (org.d2v.backend.Philox): element e of uniform/dropout reads word e mod 4 of block
   offset + e/4; element e of normal reads block offset + e/2, words (0, 1) or (2, 3). One work item
   per block. The seed's halves are the key. */

/* y (+)= x · keep / (1 − p): keep when the word is not below threshold = floor(p·2³²) (its bits in an int).
   Serves dropout (accumulate 0) and its backward (same mask, dy → dx). */
KERNEL void dropout(int n, GLOBAL const float *x, int xo, GLOBAL float *y, int yo, int threshold, float scale,
                    I64 seed, I64 offset, int accumulate) {
    int blk = GID(0);
    if (blk >= (n + 3) / 4) return;
    U32 w[4];
    d2v_philox((U64) offset + (U64) blk, (U64) seed, w);
    for (int q = 0; q < 4; q++) {
        int e = blk * 4 + q;
        if (e >= n) break;
        float v = w[q] >= (U32) threshold ? x[xo + e] * scale : 0.0f;
        y[yo + e] = accumulate ? y[yo + e] + v : v;
    }
}

/* out[e] = (word >> 8)·2⁻²⁴ ∈ [0, 1). */
KERNEL void uniform(int n, GLOBAL float *out, int oo, I64 seed, I64 offset) {
    int blk = GID(0);
    if (blk >= (n + 3) / 4) return;
    U32 w[4];
    d2v_philox((U64) offset + (U64) blk, (U64) seed, w);
    for (int q = 0; q < 4; q++) {
        int e = blk * 4 + q;
        if (e < n) out[oo + e] = (float) (w[q] >> 8) * 5.9604644775390625e-8f;
    }
}

/* out[e] = mean + std·z, z = sqrt(−2 ln u1)·cos(2π u2) (Box–Muller in float). */
KERNEL void normal(int n, GLOBAL float *out, int oo, float mean, float std, I64 seed, I64 offset) {
    int blk = GID(0);
    if (blk >= (n + 1) / 2) return;
    U32 w[4];
    d2v_philox((U64) offset + (U64) blk, (U64) seed, w);
    for (int q = 0; q < 2; q++) {
        int e = blk * 2 + q;
        if (e >= n) break;
        float u1 = (float) ((w[2 * q] >> 8) + 1u) * 5.9604644775390625e-8f;
        float u2 = (float) (w[2 * q + 1] >> 8) * 5.9604644775390625e-8f;
        float z = SQRT(-2.0f * LOG(u1)) * COS(6.283185307179586f * u2);
        out[oo + e] = mean + std * z;
    }
}
