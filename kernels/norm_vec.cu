/*
 * 16-byte vectorised normalisation kernels (CUDA only; the portable twins are in norm.cl). Suffix
 * _f32: x, y, dy, dx float; _bf16: bf16 (unsigned short). Statistics (mean, rstd), gamma, beta and
 * the parameter-gradient partials are always float; math is fp32; two passes for the variance.
 *
 * LayerNorm (one warp per row, the row held in registers: dim a multiple of 8, at most 1024):
 *   layer_norm_forward_vec_*: y = act((x − mean)·rstd·gamma + beta), act = GELU (exact erf) when
 *     gelu != 0 (the decoder's LN → GELU in one pass), else identity. block 256 (8 rows at a time),
 *     grid-stride over rows: grid min(ceil(rows/8), 1056).
 *   layer_norm_backward_vec_*: with u = x̂·gamma + beta and du = dy·GELU'(u) (gelu) or dy,
 *     dx (+)= rstd·(g − mean(g) − x̂·mean(g·x̂)), g = du·gamma (dx may be null); and, when
 *     hasParams, the parameter partials pg[c, j] = Σ du·x̂, pb[c, j] = Σ du over the rows of chunk
 *     c = [c·rowsPerChunk, (c+1)·rowsPerChunk), which the caller adds up in a fixed order
 *     (elementwise.cl reduce_middle over ceil(rows/rowsPerChunk) chunks) into dgamma, dbeta. One warp
 *     per chunk, its partials in shared memory: block 128 (required), grid min(ceil(chunks/4), 1848).
 *     rowsPerChunk ≈ rows/4096 keeps an H200 busy (28 warps per SM).
 * Instance norm over time (x [batch, time, channels], each (b, c) over time, biased variance):
 *   one block of 256 per (64 channels, b): 8 lanes × 8 channels across, 32 lanes along time;
 *   channels a multiple of 8. grid (ceil(channels/64), batch), block 256.
 * Preconditions (checked; a violation writes NaN into the outputs): the sizes above, and every
 * tensor view 16-byte aligned (offsets multiples of 8 for bf16, 4 for float; gamma, beta too).
 */
#include "bf16.cuh"
#include "warp.cuh"

#define LN_CPL 4 /* 8-element units per lane: dim <= 32·8·LN_CPL */
#define LN_MAX_DIM (32 * 8 * LN_CPL)
#define IN_CH 64 /* channels per instance-norm block */
#define LN_BWD_WARPS 4 /* warps per LayerNorm-backward block: its partials take 32 KB of shared memory */

static __device__ __forceinline__ float nan_f() { return __int_as_float(0x7fc00000); }

template <class T>
static __device__ __forceinline__ void ln_forward(int rows, int dim, float eps, const T *x, const float *gamma,
                                                  const float *beta, T *y, float *mean, float *rstd,
                                                  int hasGamma, int hasBeta, int gelu) {
    const int lane = threadIdx.x & 31;
    const long long warp0 = ((long long) blockIdx.x * blockDim.x + threadIdx.x) >> 5, warps = grid_step() >> 5;
    const int units = dim / 8;
    const bool ok = dim % 8 == 0 && dim <= LN_MAX_DIM && aligned16(x) && aligned16(y)
                    && (!hasGamma || aligned16(gamma)) && (!hasBeta || aligned16(beta));
    for (long long r = warp0; r < rows; r += warps) {
        if (!ok) {
            for (int j = lane; j < dim; j += 32) store1(y + r * dim + j, nan_f());
            if (lane == 0) { mean[r] = nan_f(); rstd[r] = nan_f(); }
            continue;
        }
        const T *xr = x + r * dim;
        float v[LN_CPL][8];
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < LN_CPL; i++) {
            const int u = lane + 32 * i;
            if (u < units) {
                load8(xr + u * 8, v[i]);
#pragma unroll
                for (int k = 0; k < 8; k++) s += v[i][k];
            }
        }
        const float mu = warp_sum(s) / dim;
        float q = 0.0f;
#pragma unroll
        for (int i = 0; i < LN_CPL; i++) {
            if (lane + 32 * i < units) {
#pragma unroll
                for (int k = 0; k < 8; k++) { const float d = v[i][k] - mu; q += d * d; }
            }
        }
        const float rs = rsqrtf(warp_sum(q) / dim + eps);
#pragma unroll
        for (int i = 0; i < LN_CPL; i++) {
            const int u = lane + 32 * i;
            if (u >= units) continue;
            float gm[8], bt[8];
            if (hasGamma) load8(gamma + u * 8, gm);
            if (hasBeta) load8(beta + u * 8, bt);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                float o = (v[i][k] - mu) * rs;
                if (hasGamma) o *= gm[k];
                if (hasBeta) o += bt[k];
                v[i][k] = gelu ? d2v_gelu(o) : o;
            }
            store8(y + r * dim + u * 8, v[i]);
        }
        if (lane == 0) { mean[r] = mu; rstd[r] = rs; }
    }
}

/* One unit of a LayerNorm backward row: x̂, du = dy (·GELU'(x̂·gamma + beta) when gelu) and gamma. */
template <class T>
static __device__ __forceinline__ void ln_du(const T *x, const T *dy, const float *gamma, const float *beta, float mu,
                                             float rs, int hasGamma, int hasBeta, int gelu, float (&xh)[8], float (&du)[8],
                                             float (&gm)[8]) {
    load8(x, xh);
    load8(dy, du);
    if (hasGamma) load8(gamma, gm);
    float bt[8];
    if (gelu && hasBeta) load8(beta, bt);
#pragma unroll
    for (int k = 0; k < 8; k++) {
        xh[k] = (xh[k] - mu) * rs;
        if (gelu) {
            float pre = hasGamma ? xh[k] * gm[k] : xh[k];
            if (hasBeta) pre += bt[k];
            du[k] *= d2v_gelu_grad(pre);
        }
    }
}

template <class T>
static __device__ __forceinline__ void ln_backward(int rows, int dim, const T *x, const float *gamma, const float *beta,
                                                   const float *mean, const float *rstd, const T *dy, T *dx,
                                                   float *pg, float *pb, int hasGamma, int hasBeta, int gelu,
                                                   int accumulate, int rowsPerChunk, int hasParams) {
    const int lane = threadIdx.x & 31;
    const long long warp0 = ((long long) blockIdx.x * blockDim.x + threadIdx.x) >> 5, warps = grid_step() >> 5;
    const int units = dim / 8;
    const long long chunks = rowsPerChunk > 0 ? (rows + rowsPerChunk - 1) / rowsPerChunk : 0;
    const bool ok = dim % 8 == 0 && dim <= LN_MAX_DIM && rowsPerChunk > 0 && blockDim.x == 32 * LN_BWD_WARPS
                    && aligned16(x) && aligned16(dy)
                    && (dx == 0 || aligned16(dx)) && (!hasGamma || aligned16(gamma)) && (!hasBeta || aligned16(beta))
                    && (!hasParams || (aligned16(pg) && aligned16(pb)));
    /* this chunk's parameter partials, warp-private; each lane owns the columns of its units */
    __shared__ __align__(16) float partial[LN_BWD_WARPS][2][LN_MAX_DIM];
    float *ag = partial[(threadIdx.x >> 5) % LN_BWD_WARPS][0], *ab = partial[(threadIdx.x >> 5) % LN_BWD_WARPS][1];
    for (long long c = warp0; c < chunks; c += warps) {
        for (int u = lane; hasParams && u < units; u += 32) { /* the same units as below: lane-owned, no race */
            const float zero[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            store8(ag + u * 8, zero);
            store8(ab + u * 8, zero);
        }
        const long long r1 = min((long long) rows, (c + 1) * rowsPerChunk);
        for (long long r = c * rowsPerChunk; r < r1; r++) {
            if (!ok) {
                if (dx != 0) for (int j = lane; j < dim; j += 32) store1(dx + r * dim + j, nan_f());
                continue;
            }
            const float mu = mean[r], rs = rstd[r];
            /* pass 1: du and the two row sums; pass 2: dx, re-reading x and dy (L1 hits) rather than
               keeping the row in registers beside the partials */
            float sg = 0.0f, sgx = 0.0f;
#pragma unroll
            for (int i = 0; i < LN_CPL; i++) {
                const int u = lane + 32 * i;
                if (u >= units) continue;
                float xh[8], du[8], gm[8];
                ln_du(x + r * dim + u * 8, dy + r * dim + u * 8, gamma + u * 8, beta + u * 8, mu, rs, hasGamma, hasBeta,
                      gelu, xh, du, gm);
                if (hasParams) {
                    float pgv[8], pbv[8];
                    load8(ag + u * 8, pgv);
                    load8(ab + u * 8, pbv);
#pragma unroll
                    for (int k = 0; k < 8; k++) { pgv[k] += du[k] * xh[k]; pbv[k] += du[k]; }
                    store8(ag + u * 8, pgv);
                    store8(ab + u * 8, pbv);
                }
#pragma unroll
                for (int k = 0; k < 8; k++) {
                    const float gg = hasGamma ? du[k] * gm[k] : du[k];
                    sg += gg;
                    sgx += gg * xh[k];
                }
            }
            if (dx == 0) continue;
            const float meanG = warp_sum(sg) / dim, meanGX = warp_sum(sgx) / dim;
#pragma unroll
            for (int i = 0; i < LN_CPL; i++) {
                const int u = lane + 32 * i;
                if (u >= units) continue;
                float xh[8], du[8], gm[8], old[8];
                ln_du(x + r * dim + u * 8, dy + r * dim + u * 8, gamma + u * 8, beta + u * 8, mu, rs, hasGamma, hasBeta,
                      gelu, xh, du, gm);
                if (accumulate) load8((const T *) dx + r * dim + u * 8, old);
#pragma unroll
                for (int k = 0; k < 8; k++) {
                    const float gg = hasGamma ? du[k] * gm[k] : du[k];
                    const float v = rs * (gg - meanG - xh[k] * meanGX);
                    du[k] = accumulate ? old[k] + v : v;
                }
                store8(dx + r * dim + u * 8, du);
            }
        }
        if (!hasParams) continue;
        for (int j = lane; !ok && j < dim; j += 32) { pg[c * dim + j] = nan_f(); pb[c * dim + j] = nan_f(); }
        for (int u = lane; ok && u < units; u += 32) {
            float v[8];
            load8(ag + u * 8, v);
            store8(pg + c * dim + u * 8, v);
            load8(ab + u * 8, v);
            store8(pb + c * dim + u * 8, v);
        }
    }
}

/* ---------------------------------------------------------------- instance norm over time */

/* Sums of 8 channels over this thread's time steps, reduced over the 32 time lanes into out[64]. */
static __device__ __forceinline__ void in_reduce(const float (&s)[8], float *red, float *out) {
    const int cl = threadIdx.x & 7, tl = threadIdx.x >> 3;
#pragma unroll
    for (int k = 0; k < 8; k++) red[tl * IN_CH + cl * 8 + k] = s[k];
    __syncthreads();
    if (threadIdx.x < IN_CH) {
        float a = 0.0f;
        for (int i = 0; i < 32; i++) a += red[i * IN_CH + threadIdx.x];
        out[threadIdx.x] = a;
    }
    __syncthreads();
}

template <class T>
static __device__ __forceinline__ void in_forward(int batch, int time, int channels, float eps, const T *x, T *y,
                                                  float *mean, float *rstd) {
    __shared__ float red[32 * IN_CH];
    __shared__ float mu[IN_CH], rs[IN_CH];
    const int cl = threadIdx.x & 7, tl = threadIdx.x >> 3;
    const int b = blockIdx.y, c0 = blockIdx.x * IN_CH + cl * 8;
    const bool ok = channels % 8 == 0 && aligned16(x) && aligned16(y);
    const bool mine = c0 < channels;
    const T *xb = x + (long long) b * time * channels;
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (ok && mine)
        for (int t = tl; t < time; t += 32) {
            float v[8];
            load8(xb + (long long) t * channels + c0, v);
#pragma unroll
            for (int k = 0; k < 8; k++) s[k] += v[k];
        }
    in_reduce(s, red, mu);
    if (threadIdx.x < IN_CH) mu[threadIdx.x] /= time;
    __syncthreads();
    float q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (ok && mine)
        for (int t = tl; t < time; t += 32) {
            float v[8];
            load8(xb + (long long) t * channels + c0, v);
#pragma unroll
            for (int k = 0; k < 8; k++) { const float d = v[k] - mu[cl * 8 + k]; q[k] += d * d; }
        }
    in_reduce(q, red, rs);
    if (threadIdx.x < IN_CH) rs[threadIdx.x] = rsqrtf(rs[threadIdx.x] / time + eps);
    __syncthreads();
    if (!ok) {
        for (int t = tl; mine && t < time; t += 32)
            for (int k = 0; k < 8 && c0 + k < channels; k++) store1(y + ((long long) b * time + t) * channels + c0 + k, nan_f());
    } else if (mine) {
        for (int t = tl; t < time; t += 32) {
            float v[8];
            load8(xb + (long long) t * channels + c0, v);
#pragma unroll
            for (int k = 0; k < 8; k++) v[k] = (v[k] - mu[cl * 8 + k]) * rs[cl * 8 + k];
            store8(y + ((long long) b * time + t) * channels + c0, v);
        }
    }
    const int c = blockIdx.x * IN_CH + threadIdx.x;
    if (threadIdx.x < IN_CH && c < channels) {
        mean[(long long) b * channels + c] = ok ? mu[threadIdx.x] : nan_f();
        rstd[(long long) b * channels + c] = ok ? rs[threadIdx.x] : nan_f();
    }
}

template <class T>
static __device__ __forceinline__ void in_backward(int batch, int time, int channels, const T *x, const float *mean,
                                                   const float *rstd, const T *dy, T *dx, int accumulate) {
    __shared__ float red[32 * IN_CH];
    __shared__ float mu[IN_CH], rs[IN_CH], mg[IN_CH], mgx[IN_CH];
    const int cl = threadIdx.x & 7, tl = threadIdx.x >> 3;
    const int b = blockIdx.y, c0 = blockIdx.x * IN_CH + cl * 8;
    const bool ok = channels % 8 == 0 && aligned16(x) && aligned16(dy) && aligned16(dx);
    const bool mine = c0 < channels;
    if (threadIdx.x < IN_CH) {
        const int c = blockIdx.x * IN_CH + threadIdx.x;
        mu[threadIdx.x] = c < channels ? mean[(long long) b * channels + c] : 0.0f;
        rs[threadIdx.x] = c < channels ? rstd[(long long) b * channels + c] : 0.0f;
    }
    __syncthreads();
    const long long base = (long long) b * time * channels + c0;
    float sg[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sgx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (ok && mine)
        for (int t = tl; t < time; t += 32) {
            float v[8], g[8];
            load8(x + base + (long long) t * channels, v);
            load8(dy + base + (long long) t * channels, g);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                sg[k] += g[k];
                sgx[k] += g[k] * (v[k] - mu[cl * 8 + k]) * rs[cl * 8 + k];
            }
        }
    in_reduce(sg, red, mg);
    in_reduce(sgx, red, mgx);
    if (!ok) {
        for (int t = tl; mine && t < time; t += 32)
            for (int k = 0; k < 8 && c0 + k < channels; k++) store1(dx + base + (long long) t * channels + k, nan_f());
        return;
    }
    if (!mine) return;
    for (int t = tl; t < time; t += 32) {
        float v[8], g[8], old[8];
        load8(x + base + (long long) t * channels, v);
        load8(dy + base + (long long) t * channels, g);
        if (accumulate) load8((const T *) dx + base + (long long) t * channels, old);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            const int c = cl * 8 + k;
            const float r = rs[c] * (g[k] - mg[c] / time - (v[k] - mu[c]) * rs[c] * (mgx[c] / time));
            v[k] = accumulate ? old[k] + r : r;
        }
        store8(dx + base + (long long) t * channels, v);
    }
}

/* ---------------------------------------------------------------- entry points */

KERNEL void layer_norm_forward_vec_f32(int rows, int dim, float eps, GLOBAL const float *x, int xo,
                                       GLOBAL const float *gamma, int go, GLOBAL const float *beta, int bo,
                                       GLOBAL float *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro,
                                       int hasGamma, int hasBeta, int gelu) {
    ln_forward(rows, dim, eps, x + xo, gamma + go, beta + bo, y + yo, mean + mo, rstd + ro, hasGamma, hasBeta, gelu);
}

KERNEL void layer_norm_forward_vec_bf16(int rows, int dim, float eps, GLOBAL const unsigned short *x, int xo,
                                        GLOBAL const float *gamma, int go, GLOBAL const float *beta, int bo,
                                        GLOBAL unsigned short *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro,
                                        int hasGamma, int hasBeta, int gelu) {
    ln_forward(rows, dim, eps, x + xo, gamma + go, beta + bo, y + yo, mean + mo, rstd + ro, hasGamma, hasBeta, gelu);
}

KERNEL void layer_norm_backward_vec_f32(int rows, int dim, GLOBAL const float *x, int xo, GLOBAL const float *gamma, int go,
                                        GLOBAL const float *beta, int bo, GLOBAL const float *mean, int mo,
                                        GLOBAL const float *rstd, int ro, GLOBAL const float *dy, int dyo,
                                        GLOBAL float *dx, int dxo, GLOBAL float *pg, int pgo, GLOBAL float *pb, int pbo,
                                        int hasGamma, int hasBeta, int gelu, int accumulate, int rowsPerChunk, int hasParams) {
    ln_backward(rows, dim, x + xo, gamma + go, beta + bo, mean + mo, rstd + ro, dy + dyo, dx ? dx + dxo : dx,
                pg + pgo, pb + pbo, hasGamma, hasBeta, gelu, accumulate, rowsPerChunk, hasParams);
}

KERNEL void layer_norm_backward_vec_bf16(int rows, int dim, GLOBAL const unsigned short *x, int xo, GLOBAL const float *gamma, int go,
                                         GLOBAL const float *beta, int bo, GLOBAL const float *mean, int mo,
                                         GLOBAL const float *rstd, int ro, GLOBAL const unsigned short *dy, int dyo,
                                         GLOBAL unsigned short *dx, int dxo, GLOBAL float *pg, int pgo, GLOBAL float *pb, int pbo,
                                         int hasGamma, int hasBeta, int gelu, int accumulate, int rowsPerChunk, int hasParams) {
    ln_backward(rows, dim, x + xo, gamma + go, beta + bo, mean + mo, rstd + ro, dy + dyo, dx ? dx + dxo : dx,
                pg + pgo, pb + pbo, hasGamma, hasBeta, gelu, accumulate, rowsPerChunk, hasParams);
}

KERNEL void instance_norm_forward_vec_f32(int batch, int time, int channels, float eps, GLOBAL const float *x, int xo,
                                          GLOBAL float *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro) {
    in_forward(batch, time, channels, eps, x + xo, y + yo, mean + mo, rstd + ro);
}

KERNEL void instance_norm_forward_vec_bf16(int batch, int time, int channels, float eps, GLOBAL const unsigned short *x, int xo,
                                           GLOBAL unsigned short *y, int yo, GLOBAL float *mean, int mo, GLOBAL float *rstd, int ro) {
    in_forward(batch, time, channels, eps, x + xo, y + yo, mean + mo, rstd + ro);
}

KERNEL void instance_norm_backward_vec_f32(int batch, int time, int channels, GLOBAL const float *x, int xo,
                                           GLOBAL const float *mean, int mo, GLOBAL const float *rstd, int ro,
                                           GLOBAL const float *dy, int dyo, GLOBAL float *dx, int dxo, int accumulate) {
    in_backward(batch, time, channels, x + xo, mean + mo, rstd + ro, dy + dyo, dx + dxo, accumulate);
}

KERNEL void instance_norm_backward_vec_bf16(int batch, int time, int channels, GLOBAL const unsigned short *x, int xo,
                                            GLOBAL const float *mean, int mo, GLOBAL const float *rstd, int ro,
                                            GLOBAL const unsigned short *dy, int dyo, GLOBAL unsigned short *dx, int dxo,
                                            int accumulate) {
    in_backward(batch, time, channels, x + xo, mean + mo, rstd + ro, dy + dyo, dx + dxo, accumulate);
}
