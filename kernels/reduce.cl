/* Whole-tensor reductions in two deterministic stages: partial_* kernels run a fixed number of
   work-groups (a power-of-two local size), each striding over the tensor and writing one partial
   sum; finish_sum adds the partials in one work-group. No atomics, no subgroups (PoCL has none).
   The input may be ACT (d2v.h); partials and results are float. */

#define D2V_REDUCE_LOCAL 256

/* partials[group] = Σ over this group's share of x (squared when square != 0). */
KERNEL void partial_sum(int n, GLOBAL const ACT *x, int xo, int square, GLOBAL float *partials, int po) {
    LOCAL_ARRAY(float, buf, D2V_REDUCE_LOCAL);
    float s = 0.0f;
    for (int i = GID(0); i < n; i += GLOBAL_SIZE(0)) {
        float v = ACT_LD(x[xo + i]);
        s += square ? v * v : v;
    }
    float total = d2v_block_sum(buf, s);
    if (LID(0) == 0) partials[po + GROUP_ID(0)] = total;
}

/* CPU-shaped partial_sum (KernelVariants.Tiled.REDUCTION): no barriers and no local memory. Work
   item i sums its own contiguous chunk [i·chunk, (i+1)·chunk) of x into partials[i]; eight
   interleaved accumulators keep the adds from waiting on each other. On PoCL the tree of
   d2v_block_sum costs a work-item loop per barrier level in each of 256 work-groups, 5 ns an
   element for a sum of squares; this walks memory once. */
KERNEL void partial_sum_chunks(int n, int chunk, GLOBAL const ACT *x, int xo, int square, GLOBAL float *partials, int po) {
    int i = GID(0);
    I64 lo = (I64) i * chunk, hi = lo + chunk < n ? lo + chunk : n;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
    I64 e = lo;
    for (; e + 8 <= hi; e += 8) {
        GLOBAL const ACT *v = x + xo + e;
        float v0 = ACT_LD(v[0]), v1 = ACT_LD(v[1]), v2 = ACT_LD(v[2]), v3 = ACT_LD(v[3]);
        float v4 = ACT_LD(v[4]), v5 = ACT_LD(v[5]), v6 = ACT_LD(v[6]), v7 = ACT_LD(v[7]);
        if (square) { v0 *= v0; v1 *= v1; v2 *= v2; v3 *= v3; v4 *= v4; v5 *= v5; v6 *= v6; v7 *= v7; }
        s0 += v0; s1 += v1; s2 += v2; s3 += v3; s4 += v4; s5 += v5; s6 += v6; s7 += v7;
    }
    for (; e < hi; e++) {
        float v = ACT_LD(x[xo + e]);
        s0 += square ? v * v : v;
    }
    partials[po + i] = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

/* out[0] (+)= scale · Σ partials[0 .. count). One work-group. */
KERNEL void finish_sum(int count, GLOBAL const float *partials, int po, float scale, GLOBAL float *out, int oo,
                       int accumulate) {
    LOCAL_ARRAY(float, buf, D2V_REDUCE_LOCAL);
    float s = 0.0f;
    for (int i = LID(0); i < count; i += LOCAL_SIZE(0)) s += partials[po + i];
    float total = d2v_block_sum(buf, s) * scale;
    if (LID(0) == 0) out[oo] = accumulate ? out[oo] + total : total;
}

/* The spread of n samples per channel from their moments (org.d2v.backend.Ops#meanChannelStd):
   out = (1/C)·Σ_c sqrt(max(0, meanSq[c] − mean[c]²)·n/max(1, n − 1) + 1e-6). One work-group. */
KERNEL void mean_channel_std(int channels, int n, GLOBAL const float *mean, int mo, GLOBAL const float *meanSq, int qo,
                             GLOBAL float *out, int oo) {
    LOCAL_ARRAY(float, buf, D2V_REDUCE_LOCAL);
    float correction = (float) n / (float) (n > 1 ? n - 1 : 1);
    float s = 0.0f;
    for (int c = LID(0); c < channels; c += LOCAL_SIZE(0)) {
        float mu = mean[mo + c];
        float var = FMAX(0.0f, meanSq[qo + c] - mu * mu) * correction;
        s += SQRT(var + 1e-6f);
    }
    float total = d2v_block_sum(buf, s);
    if (LID(0) == 0) out[oo] = total / (float) channels;
}
