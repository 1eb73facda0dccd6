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
