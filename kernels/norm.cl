/* LayerNorm (one work-group of 256 per row, two passes for an accurate variance) and instance norm
   over time (one work item per (batch, channel)). Parameter gradients are reduced over rows by a
   second kernel, so nothing needs atomics and every result is deterministic. x, y, dy and dx are
   ACT (d2v.h); gamma, beta, the statistics and the parameter-gradient partials are float, and every
   sum runs in float: with bf16 storage, LayerNorm reads bf16 and writes bf16 with fp32 statistics. */

#define NORM_LOCAL 256

KERNEL void layer_norm_forward(int rows, int dim, float eps, GLOBAL const ACT *x, int xo,
                               GLOBAL const float *gamma, int go, GLOBAL const float *beta, int bo,
                               GLOBAL ACT *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro,
                               int hasGamma, int hasBeta) {
    LOCAL_ARRAY(float, buf, NORM_LOCAL);
    int row = GROUP_ID(0), lid = LID(0);
    GLOBAL const ACT *xr = x + xo + (I64) row * dim;
    float s = 0.0f;
    for (int j = lid; j < dim; j += NORM_LOCAL) s += ACT_LD(xr[j]);
    float mu = d2v_block_sum(buf, s) / dim;
    float q = 0.0f;
    for (int j = lid; j < dim; j += NORM_LOCAL) { float d = ACT_LD(xr[j]) - mu; q += d * d; }
    float rs = RSQRT(d2v_block_sum(buf, q) / dim + eps);
    GLOBAL ACT *yr = y + yo + (I64) row * dim;
    for (int j = lid; j < dim; j += NORM_LOCAL) {
        float v = (ACT_LD(xr[j]) - mu) * rs;
        if (hasGamma) v *= gamma[go + j];
        if (hasBeta) v += beta[bo + j];
        yr[j] = ACT_ST(v);
    }
    if (lid == 0) { mean[mo + row] = mu; rstd[ro + row] = rs; }
}

/* dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma. */
KERNEL void layer_norm_backward_input(int rows, int dim, GLOBAL const ACT *x, int xo, GLOBAL const float *gamma, int go,
                                      GLOBAL const float *mean, int mo, GLOBAL const float *rstd, int ro,
                                      GLOBAL const ACT *dy, int dyo, GLOBAL ACT *dx, int dxo,
                                      int hasGamma, int accumulate) {
    LOCAL_ARRAY(float, buf, NORM_LOCAL);
    int row = GROUP_ID(0), lid = LID(0);
    I64 base = (I64) row * dim;
    float mu = mean[mo + row], rs = rstd[ro + row];
    float sg = 0.0f, sgx = 0.0f;
    for (int j = lid; j < dim; j += NORM_LOCAL) {
        float g = ACT_LD(dy[dyo + base + j]) * (hasGamma ? gamma[go + j] : 1.0f);
        float xh = (ACT_LD(x[xo + base + j]) - mu) * rs;
        sg += g;
        sgx += g * xh;
    }
    float meanG = d2v_block_sum(buf, sg) / dim;
    float meanGX = d2v_block_sum(buf, sgx) / dim;
    for (int j = lid; j < dim; j += NORM_LOCAL) {
        float g = ACT_LD(dy[dyo + base + j]) * (hasGamma ? gamma[go + j] : 1.0f);
        float xh = (ACT_LD(x[xo + base + j]) - mu) * rs;
        float v = rs * (g - meanG - xh * meanGX);
        I64 at = dxo + base + j;
        dx[at] = ACT_ST(accumulate ? ACT_LD(dx[at]) + v : v);
    }
}

/* First pass of the parameter gradients: pg[s, j] = Σ_{rows r in chunk s} dy·x̂, pb[s, j] = Σ dy.
   One work item per (s, j); the host then adds the chunks into dgamma and dbeta (reduce_middle). */
KERNEL void layer_norm_params_partial(int rows, int dim, int chunk, GLOBAL const ACT *x, int xo,
                                      GLOBAL const float *mean, int mo, GLOBAL const float *rstd, int ro,
                                      GLOBAL const ACT *dy, int dyo, GLOBAL float *pg, int pgo, GLOBAL float *pb, int pbo) {
    int chunks = (rows + chunk - 1) / chunk;
    int e = GID(0);
    if (e >= chunks * dim) return;
    int j = e % dim, s = e / dim;
    int r1 = s * chunk + chunk < rows ? s * chunk + chunk : rows;
    float g = 0.0f, b = 0.0f;
    for (int r = s * chunk; r < r1; r++) {
        I64 at = (I64) r * dim + j;
        float d = ACT_LD(dy[dyo + at]);
        g += d * (ACT_LD(x[xo + at]) - mean[mo + r]) * rstd[ro + r];
        b += d;
    }
    pg[pgo + (I64) s * dim + j] = g;
    pb[pbo + (I64) s * dim + j] = b;
}

/* x, y [batch, time, channels]; each (b, c) normalised over time with the biased variance. */
KERNEL void instance_norm_forward(int batch, int time, int channels, float eps, GLOBAL const ACT *x, int xo,
                                  GLOBAL ACT *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro) {
    int e = GID(0);
    if (e >= batch * channels) return;
    int b = e / channels, c = e % channels;
    I64 base = (I64) b * time * channels + c;
    float s = 0.0f;
    for (int t = 0; t < time; t++) s += ACT_LD(x[xo + base + (I64) t * channels]);
    float mu = s / time;
    float q = 0.0f;
    for (int t = 0; t < time; t++) { float d = ACT_LD(x[xo + base + (I64) t * channels]) - mu; q += d * d; }
    float rs = RSQRT(q / time + eps);
    for (int t = 0; t < time; t++) {
        I64 at = base + (I64) t * channels;
        y[yo + at] = ACT_ST((ACT_LD(x[xo + at]) - mu) * rs);
    }
    mean[mo + e] = mu;
    rstd[ro + e] = rs;
}

KERNEL void instance_norm_backward(int batch, int time, int channels, GLOBAL const ACT *x, int xo,
                                   GLOBAL const float *mean, int mo, GLOBAL const float *rstd, int ro,
                                   GLOBAL const ACT *dy, int dyo, GLOBAL ACT *dx, int dxo, int accumulate) {
    int e = GID(0);
    if (e >= batch * channels) return;
    int b = e / channels, c = e % channels;
    I64 base = (I64) b * time * channels + c;
    float mu = mean[mo + e], rs = rstd[ro + e];
    float sg = 0.0f, sgx = 0.0f;
    for (int t = 0; t < time; t++) {
        I64 at = base + (I64) t * channels;
        float g = ACT_LD(dy[dyo + at]);
        sg += g;
        sgx += g * (ACT_LD(x[xo + at]) - mu) * rs;
    }
    float meanG = sg / time, meanGX = sgx / time;
    for (int t = 0; t < time; t++) {
        I64 at = base + (I64) t * channels;
        float v = rs * (ACT_LD(dy[dyo + at]) - meanG - (ACT_LD(x[xo + at]) - mu) * rs * meanGX);
        dx[dxo + at] = ACT_ST(accumulate ? ACT_LD(dx[dxo + at]) + v : v);
    }
}

/* Barrier-free LayerNorm for CPU OpenCL (PoCL): one work item owns a row and walks it contiguously.
   PoCL spills every value that lives across a barrier per work item, which made the group-per-row
   kernels above slower than plain Java there; KernelVariants picks these for CPU devices. */
KERNEL void layer_norm_forward_rows(int rows, int dim, float eps, GLOBAL const ACT *x, int xo,
                                    GLOBAL const float *gamma, int go, GLOBAL const float *beta, int bo,
                                    GLOBAL ACT *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro,
                                    int hasGamma, int hasBeta) {
    int row = GID(0);
    if (row >= rows) return;
    GLOBAL const ACT *xr = x + xo + (I64) row * dim;
    float s = 0.0f;
    for (int j = 0; j < dim; j++) s += ACT_LD(xr[j]);
    float mu = s / dim;
    float q = 0.0f;
    for (int j = 0; j < dim; j++) { float d = ACT_LD(xr[j]) - mu; q += d * d; }
    float rs = RSQRT(q / dim + eps);
    GLOBAL ACT *yr = y + yo + (I64) row * dim;
    for (int j = 0; j < dim; j++) {
        float v = (ACT_LD(xr[j]) - mu) * rs;
        if (hasGamma) v *= gamma[go + j];
        if (hasBeta) v += beta[bo + j];
        yr[j] = ACT_ST(v);
    }
    mean[mo + row] = mu;
    rstd[ro + row] = rs;
}

KERNEL void layer_norm_backward_input_rows(int rows, int dim, GLOBAL const ACT *x, int xo, GLOBAL const float *gamma, int go,
                                           GLOBAL const float *mean, int mo, GLOBAL const float *rstd, int ro,
                                           GLOBAL const ACT *dy, int dyo, GLOBAL ACT *dx, int dxo,
                                           int hasGamma, int accumulate) {
    int row = GID(0);
    if (row >= rows) return;
    I64 base = (I64) row * dim;
    float mu = mean[mo + row], rs = rstd[ro + row];
    float sg = 0.0f, sgx = 0.0f;
    for (int j = 0; j < dim; j++) {
        float g = ACT_LD(dy[dyo + base + j]) * (hasGamma ? gamma[go + j] : 1.0f);
        sg += g;
        sgx += g * (ACT_LD(x[xo + base + j]) - mu) * rs;
    }
    float meanG = sg / dim, meanGX = sgx / dim;
    for (int j = 0; j < dim; j++) {
        float g = ACT_LD(dy[dyo + base + j]) * (hasGamma ? gamma[go + j] : 1.0f);
        float v = rs * (g - meanG - (ACT_LD(x[xo + base + j]) - mu) * rs * meanGX);
        I64 at = dxo + base + j;
        dx[at] = ACT_ST(accumulate ? ACT_LD(dx[at]) + v : v);
    }
}
