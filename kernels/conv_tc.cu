/*
 * Grouped channels-last convolution as implicit GEMM on tensor cores (CUDA only; the portable twin
 * is conv.cl, see ConvDesc): bf16 x [B,H,W,Cin], w [Cout,kH,kW,Cin/G], dy [B,Ho,Wo,Cout];
 * fp32 accumulation; y and dx fp32 or bf16 (outBf16 picks the pointer pair, the other is null);
 * fp32 bias, weight and bias gradients. A 1-D convolution is H = kH = 1.
 *
 * Every kernel is one GEMM per group with the im2col operand gathered while it is copied
 * (cp.async, zero-filled outside the image or past a channel count). K runs over "slabs" of 16
 * channels of one tap (two slabs per pipeline stage of 32), so a group of 48 channels fills three
 * slabs exactly. 4 warps per block, 3 stages, swizzled tiles, ldmatrix, mma.sync.m16n8k16.
 *   conv_tc_forward:          M = output pixels, N = Cout/G, K = taps·Cin/G.
 *       grid (ceil((Cout/G)/64)·G, ceil(B·Ho·Wo/128)), block 128.
 *   conv_tc_backward_input:   M = input pixels, N = Cin/G, K = taps·Cout/G (the transposed conv;
 *       any stride). grid (ceil((Cin/G)/64)·G, ceil(B·H·W/128)), block 128.
 *   conv_tc_backward_weight:  per group M = Cout/G, N = taps·Cin/G, K = pixels, split into `splits`
 *       contiguous pixel ranges: split z writes its whole partial tile to ws[z][Cout·kH·kW·Cin/G]
 *       (plain stores); conv_tc_reduce_splits then adds the splits into dw in split order, so dw is
 *       deterministic and no atomics are used. grid (ceil((Cout/G)/64)·ceil(taps·(Cin/G)/64), G,
 *       splits), block 128.
 *   conv_tc_bias_partial + conv_tc_reduce_splits: dbias += Σ_pixels dy (bf16 dy), in two fixed-order
 *       passes: partials per pixel chunk, then the chunks. grid (ceil(Cout/64), chunks), block 256.
 * Geometry ints in conv.cl's order: B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo.
 * Preconditions (checked; a violation writes NaN into the block's outputs): Cin/G and Cout/G
 * multiples of 8, tensor offsets multiples of 8 (16-byte rows for cp.async).
 * Fusing the decoder's LayerNorm + GELU into the forward epilogue does not fit: LN normalises over
 * all Cout channels of a pixel and a block holds the 64 channels of one group, so the statistics
 * would need a second pass anyway; norm_vec.cu's layer_norm_forward_vec does LN + GELU in one
 * memory pass instead.
 */
#include "tc.cuh"
#include "warp.cuh"

#define CV_THREADS 128
#define CV_K 32 /* k per stage: two slabs of 16 */
#define CV_STAGES 3

struct ConvGeom {
    int B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo;
    int cpg, opg, taps;
};

static __device__ __forceinline__ ConvGeom cv_geom(int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW,
                                                   int pH, int pW, int G, int Ho, int Wo) {
    ConvGeom c = {B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo, Cin / G, Cout / G, kH * kW};
    return c;
}

/* The shared mainloop: acc += A·B over kSteps stages of CV_K. A tile: [BM][CV_K] when A_KMAJOR
   (k contiguous) else [CV_K][BM]; B tile: [BN][CV_K] when B_NMAJOR else [CV_K][BN]. loadA/loadB
   (tile, step) issue this thread's cp.async copies of stage `step`. Warps: WARPS_M along M. */
template <int BM, int BN, int WARPS_M, bool A_KMAJOR, bool B_NMAJOR, class LoadA, class LoadB>
static __device__ __forceinline__ void cv_mainloop(float (&acc)[BM / WARPS_M / 16][BN / (4 / WARPS_M) / 8][4], int kSteps,
                                                   LoadA loadA, LoadB loadB) {
    const int WM = BM / WARPS_M, WN = BN / (4 / WARPS_M), MI = WM / 16, NI = WN / 8;
    const int ACOLS = A_KMAJOR ? CV_K : BM, BCOLS = B_NMAJOR ? CV_K : BN;
    __shared__ __align__(128) unsigned short As[CV_STAGES][BM * CV_K];
    __shared__ __align__(128) unsigned short Bs[CV_STAGES][BN * CV_K];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = warp % WARPS_M, wn = warp / WARPS_M;
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NI; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;
#pragma unroll
    for (int s = 0; s < CV_STAGES - 1; s++) {
        if (s < kSteps) { loadA(As[s], s); loadB(Bs[s], s); }
        cp_async_commit();
    }
    for (int kt = 0; kt < kSteps; kt++) {
        cp_async_wait<CV_STAGES - 2>();
        __syncthreads();
        const int next = kt + CV_STAGES - 1;
        if (next < kSteps) { loadA(As[next % CV_STAGES], next); loadB(Bs[next % CV_STAGES], next); }
        cp_async_commit();
        const unsigned short *as = As[kt % CV_STAGES], *bs = Bs[kt % CV_STAGES];
#pragma unroll
        for (int kk = 0; kk < CV_K; kk += 16) {
            unsigned int af[MI][4], bf[NI / 2][4];
#pragma unroll
            for (int i = 0; i < MI; i++) {
                if (A_KMAJOR) ldmatrix_x4(af[i], as + frag_a_rowmajor<ACOLS>(lane, wm * WM + 16 * i, kk));
                else ldmatrix_x4_trans(af[i], as + frag_a_colmajor<ACOLS>(lane, wm * WM + 16 * i, kk));
            }
#pragma unroll
            for (int j = 0; j < NI / 2; j++) {
                if (B_NMAJOR) ldmatrix_x4(bf[j], bs + frag_b_nmajor<BCOLS>(lane, wn * WN + 16 * j, kk));
                else ldmatrix_x4_trans(bf[j], bs + frag_b_kmajor<BCOLS>(lane, wn * WN + 16 * j, kk));
            }
#pragma unroll
            for (int i = 0; i < MI; i++)
#pragma unroll
                for (int j = 0; j < NI; j++) mma_bf16(acc[i][j], af[i], bf[j >> 1][(j & 1) * 2], bf[j >> 1][(j & 1) * 2 + 1]);
        }
    }
}

/* Stores one accumulator pair (columns col, col + 1 of a row) into fp32 or bf16, plus an optional
   per-column bias and accumulation; `two` says whether col + 1 exists. */
static __device__ __forceinline__ void cv_store2(float v0, float v1, bool two, long long at, float *out, unsigned short *outb,
                                                 int outBf16, int accumulate) {
    if (outBf16) {
        if (accumulate) { v0 += bf16_to_float(outb[at]); if (two) v1 += bf16_to_float(outb[at + 1]); }
        outb[at] = float_to_bf16(v0);
        if (two) outb[at + 1] = float_to_bf16(v1);
    } else {
        if (accumulate) { v0 += out[at]; if (two) v1 += out[at + 1]; }
        out[at] = v0;
        if (two) out[at + 1] = v1;
    }
}

/* ================================================================ forward */

static __device__ __forceinline__ void cv_forward(const unsigned short *x, const unsigned short *w, const float *bias,
                                                  float *y, unsigned short *yb, const ConvGeom &c, int hasBias, int outBf16) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int nTiles = (c.opg + 63) / 64;
    const int grp = blockIdx.x / nTiles, n0 = (blockIdx.x % nTiles) * 64, m0 = blockIdx.y * 128;
    const int P = c.B * c.Ho * c.Wo;
    const int cChunks = (c.cpg + 15) / 16, slabs = c.taps * cChunks, kSteps = (slabs + 1) / 2;

    /* A: this thread's 4 pixel rows (tid/4 + 32i) and chunk column tid%4 of every stage */
    const int col = tid & 3, half = col >> 1, sub = (col & 1) * 8;
    int pb[4], ih0[4], iw0[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int p = m0 + tid / 4 + 32 * i;
        const int ow = p % c.Wo, oh = (p / c.Wo) % c.Ho, b = p / (c.Wo * c.Ho);
        pb[i] = p < P ? b * c.H : -1;
        ih0[i] = oh * c.sH - c.pH;
        iw0[i] = ow * c.sW - c.pW;
    }
    auto loadA = [&](unsigned short *tile, int step) {
        const int s = 2 * step + half;
        const int tap = s / cChunks, ch = (s % cChunks) * 16 + sub;
        const int kh = tap / c.kW, kw = tap % c.kW;
        const bool slabOk = s < slabs && ch < c.cpg;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int ih = ih0[i] + kh, iw = iw0[i] + kw;
            const bool valid = slabOk && pb[i] >= 0 && ih >= 0 && ih < c.H && iw >= 0 && iw < c.W;
            const unsigned short *src = valid ? x + ((long long) (pb[i] + ih) * c.W + iw) * c.Cin + grp * c.cpg + ch : x;
            cp_async16(tile + swz_at<CV_K>(tid / 4 + 32 * i, col * 8), src, valid);
        }
    };
    auto loadB = [&](unsigned short *tile, int step) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int q = tid + CV_THREADS * i, row = q / 4, cc = q % 4;
            const int s = 2 * step + (cc >> 1), ch = (s % cChunks) * 16 + (cc & 1) * 8, tap = s / cChunks;
            const int n = n0 + row;
            const bool valid = s < slabs && ch < c.cpg && n < c.opg;
            const unsigned short *src = valid ? w + ((long long) (grp * c.opg + n) * c.taps + tap) * c.cpg + ch : w;
            cp_async16(tile + swz_at<CV_K>(row, cc * 8), src, valid);
        }
    };
    float acc[2][8][4];
    cv_mainloop<128, 64, 4, true, true>(acc, kSteps, loadA, loadB);

    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int hf = 0; hf < 2; hf++) {
            const int p = m0 + warp * 32 + i * 16 + g + hf * 8;
            if (p >= P) continue;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const int n = n0 + j * 8 + 2 * t;
                if (n >= c.opg) continue;
                const int co = grp * c.opg + n;
                const bool two = n + 1 < c.opg;
                float v0 = acc[i][j][hf * 2], v1 = acc[i][j][hf * 2 + 1];
                if (hasBias) { v0 += bias[co]; if (two) v1 += bias[co + 1]; }
                cv_store2(v0, v1, two, (long long) p * c.Cout + co, y, yb, outBf16, 0);
            }
        }
}

/* ================================================================ input gradient */

static __device__ __forceinline__ void cv_backward_input(const unsigned short *dy, const unsigned short *w, float *dx,
                                                         unsigned short *dxb, const ConvGeom &c, int accumulate, int outBf16) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int nTiles = (c.cpg + 63) / 64;
    const int grp = blockIdx.x / nTiles, c0 = (blockIdx.x % nTiles) * 64, m0 = blockIdx.y * 128;
    const int P = c.B * c.H * c.W;
    const int nChunks = (c.opg + 15) / 16, slabs = c.taps * nChunks, kSteps = (slabs + 1) / 2;

    const int col = tid & 3, half = col >> 1, sub = (col & 1) * 8;
    int pb[4], ihp[4], iwp[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int p = m0 + tid / 4 + 32 * i;
        const int iw = p % c.W, ih = (p / c.W) % c.H, b = p / (c.W * c.H);
        pb[i] = p < P ? b * c.Ho : -1;
        ihp[i] = ih + c.pH;
        iwp[i] = iw + c.pW;
    }
    /* A (dy): input pixel p, tap (kh, kw) reads output pixel ((ih + pH − kh)/sH, (iw + pW − kw)/sW)
       where that divides and lies inside */
    auto loadA = [&](unsigned short *tile, int step) {
        const int s = 2 * step + half;
        const int tap = s / nChunks, n = (s % nChunks) * 16 + sub;
        const int kh = tap / c.kW, kw = tap % c.kW;
        const bool slabOk = s < slabs && n < c.opg;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int th = ihp[i] - kh, tw = iwp[i] - kw;
            const int oh = th / c.sH, ow = tw / c.sW;
            const bool valid = slabOk && pb[i] >= 0 && th >= 0 && tw >= 0 && oh * c.sH == th && ow * c.sW == tw
                               && oh < c.Ho && ow < c.Wo;
            const unsigned short *src = valid ? dy + ((long long) (pb[i] + oh) * c.Wo + ow) * c.Cout + grp * c.opg + n : dy;
            cp_async16(tile + swz_at<CV_K>(tid / 4 + 32 * i, col * 8), src, valid);
        }
    };
    /* B (w as [k = (tap, n)][c]): 32 rows of 64 channels */
    auto loadB = [&](unsigned short *tile, int step) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int q = tid + CV_THREADS * i, row = q / 8, cc = q % 8;
            const int s = 2 * step + row / 16, tap = s / nChunks, n = (s % nChunks) * 16 + row % 16;
            const int ch = c0 + cc * 8;
            const bool valid = s < slabs && n < c.opg && ch < c.cpg;
            const unsigned short *src = valid ? w + ((long long) (grp * c.opg + n) * c.taps + tap) * c.cpg + ch : w;
            cp_async16(tile + swz_at<64>(row, cc * 8), src, valid);
        }
    };
    float acc[2][8][4];
    cv_mainloop<128, 64, 4, true, false>(acc, kSteps, loadA, loadB);

    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int hf = 0; hf < 2; hf++) {
            const int p = m0 + warp * 32 + i * 16 + g + hf * 8;
            if (p >= P) continue;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const int ch = c0 + j * 8 + 2 * t;
                if (ch >= c.cpg) continue;
                cv_store2(acc[i][j][hf * 2], acc[i][j][hf * 2 + 1], ch + 1 < c.cpg,
                          (long long) p * c.Cin + grp * c.cpg + ch, dx, dxb, outBf16, accumulate);
            }
        }
}

/* ================================================================ weight gradient (split over pixels) */

static __device__ __forceinline__ void cv_backward_weight(const unsigned short *x, const unsigned short *dy, float *ws,
                                                          const ConvGeom &c, int splits) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int N = c.taps * c.cpg; /* columns (tap, channel) of one output channel's weights */
    const int mTiles = (c.opg + 63) / 64;
    const int m0 = (blockIdx.x % mTiles) * 64, j0 = (blockIdx.x / mTiles) * 64, grp = blockIdx.y, z = blockIdx.z;
    const int P = c.B * c.Ho * c.Wo;
    const int per = ((P + splits - 1) / splits + CV_K - 1) / CV_K * CV_K;
    const int p0 = min(P, z * per), p1 = min(P, p0 + per);
    const int kSteps = (p1 - p0 + CV_K - 1) / CV_K;

    /* A (dy as [k = pixel][m = output channel]) and B (x gathered, [k = pixel][(tap, c)]): each thread
       copies rows tid/8 and tid/8 + 16, chunk column tid%8, of both */
    const int cc = tid % 8, r0 = tid / 8;
    const int n = m0 + cc * 8;
    const int jc = j0 + cc * 8, tap = jc / c.cpg, ch = jc % c.cpg, kh = tap / c.kW, kw = tap % c.kW;
    const bool colOk = jc < N;
    auto loadA = [&](unsigned short *tile, int step) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int row = r0 + 16 * i, p = p0 + step * CV_K + row;
            const bool valid = p < p1 && n < c.opg;
            const unsigned short *src = valid ? dy + (long long) p * c.Cout + grp * c.opg + n : dy;
            cp_async16(tile + swz_at<64>(row, cc * 8), src, valid);
        }
    };
    auto loadB = [&](unsigned short *tile, int step) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int row = r0 + 16 * i, p = p0 + step * CV_K + row;
            const int ow = p % c.Wo, oh = (p / c.Wo) % c.Ho, b = p / (c.Wo * c.Ho);
            const int ih = oh * c.sH - c.pH + kh, iw = ow * c.sW - c.pW + kw;
            const bool valid = p < p1 && colOk && ih >= 0 && ih < c.H && iw >= 0 && iw < c.W;
            const unsigned short *src = valid ? x + ((long long) (b * c.H + ih) * c.W + iw) * c.Cin + grp * c.cpg + ch : x;
            cp_async16(tile + swz_at<64>(row, cc * 8), src, valid);
        }
    };
    float acc[2][4][4];
    cv_mainloop<64, 64, 2, false, false>(acc, kSteps, loadA, loadB);

    const int g = lane >> 2, t = lane & 3, wm = warp % 2, wn = warp / 2;
    float *out = ws + (long long) z * c.Cout * N;
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int hf = 0; hf < 2; hf++) {
            const int m = m0 + wm * 32 + i * 16 + g + hf * 8;
            if (m >= c.opg) continue;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int col = j0 + wn * 32 + j * 8 + 2 * t;
                if (col >= N) continue;
                cv_store2(acc[i][j][hf * 2], acc[i][j][hf * 2 + 1], col + 1 < N,
                          (long long) (grp * c.opg + m) * N + col, out, 0, 0, 0);
            }
        }
}

/* ================================================================ entry points */

KERNEL void conv_tc_forward(GLOBAL const unsigned short *x, int xOff, GLOBAL const unsigned short *w, int wOff,
                            GLOBAL const float *bias, int biasOff, GLOBAL float *y, int yOff,
                            GLOBAL unsigned short *yb, int ybOff,
                            int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
                            int G, int Ho, int Wo, int hasBias, int outBf16) {
    const ConvGeom c = cv_geom(B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo);
    if (((c.cpg | c.opg | xOff | wOff) & 7) != 0) { /* precondition: NaN over this block's pixels */
        for (int e = threadIdx.x; e < 128 * Cout; e += CV_THREADS) {
            const long long p = blockIdx.y * 128 + e / Cout;
            if (p >= (long long) B * Ho * Wo || blockIdx.x != 0) continue;
            if (outBf16) yb[ybOff + p * Cout + e % Cout] = 0x7fc0; else y[yOff + p * Cout + e % Cout] = __int_as_float(0x7fc00000);
        }
        return;
    }
    cv_forward(x + xOff, w + wOff, bias ? bias + biasOff : bias, y ? y + yOff : y, yb ? yb + ybOff : yb, c, hasBias, outBf16);
}

KERNEL void conv_tc_backward_input(GLOBAL const unsigned short *dy, int dyOff, GLOBAL const unsigned short *w, int wOff,
                                   GLOBAL float *dx, int dxOff, GLOBAL unsigned short *dxb, int dxbOff,
                                   int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
                                   int G, int Ho, int Wo, int accumulate, int outBf16) {
    const ConvGeom c = cv_geom(B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo);
    if (((c.cpg | c.opg | dyOff | wOff) & 7) != 0) {
        for (int e = threadIdx.x; e < 128 * Cin; e += CV_THREADS) {
            const long long p = blockIdx.y * 128 + e / Cin;
            if (p >= (long long) B * H * W || blockIdx.x != 0) continue;
            if (outBf16) dxb[dxbOff + p * Cin + e % Cin] = 0x7fc0; else dx[dxOff + p * Cin + e % Cin] = __int_as_float(0x7fc00000);
        }
        return;
    }
    cv_backward_input(dy + dyOff, w + wOff, dx ? dx + dxOff : dx, dxb ? dxb + dxbOff : dxb, c, accumulate, outBf16);
}

KERNEL void conv_tc_backward_weight(GLOBAL const unsigned short *x, int xOff, GLOBAL const unsigned short *dy, int dyOff,
                                    GLOBAL float *ws, int wsOff,
                                    int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
                                    int G, int Ho, int Wo, int splits) {
    const ConvGeom c = cv_geom(B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo);
    if (((c.cpg | c.opg | xOff | dyOff) & 7) != 0 || splits < 1) {
        const long long count = (long long) Cout * c.taps * c.cpg;
        if (blockIdx.x == 0 && blockIdx.y == 0)
            for (long long e = threadIdx.x; e < count; e += CV_THREADS) ws[wsOff + blockIdx.z * count + e] = __int_as_float(0x7fc00000);
        return;
    }
    cv_backward_weight(x + xOff, dy + dyOff, ws + wsOff, c, splits);
}

/* out[i] += Σ_{s < splits} part[s·count + i], in split order (deterministic). Grid-stride, block 256. */
KERNEL void conv_tc_reduce_splits(int count, int splits, GLOBAL const float *part, int partOff, GLOBAL float *out, int outOff) {
    part += partOff;
    out += outOff;
    const bool vec = count % 8 == 0 && aligned16(part) && aligned16(out);
    const long long units = vec ? count / 8 : 0;
    for (long long u = grid_first(); u < units; u += grid_step()) {
        float a[8], b[8];
        load8(out + u * 8, a);
        for (int s = 0; s < splits; s++) {
            load8(part + (long long) s * count + u * 8, b);
#pragma unroll
            for (int k = 0; k < 8; k++) a[k] += b[k];
        }
        store8(out + u * 8, a);
    }
    for (long long i = units * 8 + grid_first(); i < count; i += grid_step()) {
        float a = out[i];
        for (int s = 0; s < splits; s++) a += part[(long long) s * count + i];
        out[i] = a;
    }
}

/* part[chunk, co] = Σ dy[pixel, co] over pixels [chunk·perChunk, (chunk+1)·perChunk): 8 lanes × 8
   channels across, 32 lanes along pixels, a fixed tree over the 32. grid (ceil(Cout/64), chunks),
   block 256; Cout a multiple of 8 and dy 16-byte aligned (else NaN). */
KERNEL void conv_tc_bias_partial(GLOBAL const unsigned short *dy, int dyOff, GLOBAL float *part, int partOff,
                                 int pixels, int Cout, int perChunk) {
    __shared__ float red[32 * 64];
    dy += dyOff;
    const int cl = threadIdx.x & 7, tl = threadIdx.x >> 3;
    const int c0 = blockIdx.x * 64 + cl * 8, chunk = blockIdx.y;
    const bool ok = Cout % 8 == 0 && aligned16(dy) && perChunk > 0;
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (ok && c0 < Cout) {
        const long long p1 = min((long long) pixels, (long long) (chunk + 1) * perChunk);
        for (long long p = (long long) chunk * perChunk + tl; p < p1; p += 32) {
            float v[8];
            load8(dy + p * Cout + c0, v);
#pragma unroll
            for (int k = 0; k < 8; k++) s[k] += v[k];
        }
    }
#pragma unroll
    for (int k = 0; k < 8; k++) red[tl * 64 + cl * 8 + k] = s[k];
    __syncthreads();
    const int co = blockIdx.x * 64 + threadIdx.x;
    if (threadIdx.x < 64 && co < Cout) {
        float a = 0.0f;
        for (int i = 0; i < 32; i++) a += red[i * 64 + threadIdx.x];
        part[partOff + (long long) chunk * Cout + co] = ok ? a : __int_as_float(0x7fc00000);
    }
}
