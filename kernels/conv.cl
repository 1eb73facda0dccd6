/*
 * Grouped 2-D convolution, channels-last (see ConvDesc): x [B,H,W,Cin],
 * w [Cout,kH,kW,Cin/G], bias [Cout], y [B,Ho,Wo,Cout]. A 1-D convolution is H = kH = 1.
 *
 * Forward and input-grad give each work-item a tile of channels at one pixel (the register-blocked
 * kernels at the end; neighbouring work-items own neighbouring channels). The weight-grad has two
 * forms: conv_backward_weight_tiled (one work-item walks every pixel for a 4×8 tile of weights; the
 * CPU shape) and conv_backward_weight (a work-group per tile of weights, work-items striding over
 * the pixels and a tree in local memory; the GPU shape). Bias-grad is a tree per bias element. All
 * sums are deterministic and need no atomics. x, w, y, dy and dx are ACT (d2v.h; a bf16 model
 * passes the bf16 working copy of w); bias, dw and dbias are float, and every sum runs in float.
 *
 * Every kernel takes the geometry as ints in this order (ConvKernels.withGeometry):
 * B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo.
 */

#define CONV_RED 64
#define CONV_WG 256

/*
 * dw[co,kh,kw,c] += Σ_pixels dy[pixel,co]·x[tap pixel, c]. A work-group of CONV_WG work-items owns
 * wc consecutive channels c of one (co, kh, kw) (wc a power of two, at most 16): work-item
 * (tc, tp) = (lid mod wc, lid / wc) sums channel tc over every (CONV_WG/wc)-th pixel from tp, so
 * neighbouring work-items read neighbouring x and share one dy; then a tree over tp.
 * global (Cout·kH·kW·ceil(cpg/wc) · CONV_WG), local (CONV_WG).
 */
KERNEL void conv_backward_weight(
        GLOBAL const ACT *x, int xOff, GLOBAL const ACT *dy, int dyOff,
        GLOBAL float *dw, int dwOff,
        int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
        int G, int Ho, int Wo, int wc) {
    LOCAL_ARRAY(float, red, CONV_WG);
    const int lid = LID(0);
    const int tc = lid % wc, tp = lid / wc, lanes = CONV_WG / wc;
    const int cpg = Cin / G, opg = Cout / G;
    const int tilesC = (cpg + wc - 1) / wc;
    const int tileC = GROUP_ID(0) % tilesC, tap = GROUP_ID(0) / tilesC;
    const int kw = tap % kW, kh = (tap / kW) % kH, co = tap / (kW * kH);
    const int cl = tileC * wc + tc;
    const bool valid = cl < cpg;
    const int ci = (co / opg) * cpg + cl;
    float sum = 0.0f;
    for (int pix = tp; valid && pix < B * Ho * Wo; pix += lanes) {
        const int ow = pix % Wo, oh = (pix / Wo) % Ho, b = pix / (Wo * Ho);
        const int ih = oh * sH - pH + kh, iw = ow * sW - pW + kw;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        sum += ACT_LD(dy[dyOff + pix * Cout + co]) * ACT_LD(x[xOff + ((b * H + ih) * W + iw) * Cin + ci]);
    }
    red[lid] = sum;
    BARRIER();
    for (int step = lanes / 2; step > 0; step /= 2) {
        if (tp < step) red[lid] += red[lid + step * wc];
        BARRIER();
    }
    if (tp == 0 && valid) dw[dwOff + tap * cpg + cl] += red[tc];
}

/* dbias[co] += Σ_pixels dy[pixel, co]. global (Cout · CONV_RED), local (CONV_RED). */
KERNEL void conv_backward_bias(GLOBAL const ACT *dy, int dyOff, GLOBAL float *dbias, int dbiasOff,
                               int pixels, int Cout) {
    LOCAL_ARRAY(float, red, CONV_RED);
    const int lid = LID(0);
    const int co = GROUP_ID(0);
    float sum = 0.0f;
    for (int pix = lid; pix < pixels; pix += CONV_RED) sum += ACT_LD(dy[dyOff + pix * Cout + co]);
    const float total = d2v_block_sum(red, sum);
    if (lid == 0) dbias[dbiasOff + co] += total;
}

/* ---------------------------------------------------------------- register-blocked kernels
 * Barrier-free: each work-item keeps a small register tile and walks contiguous channel runs that
 * LLVM vectorises on PoCL (`#pragma unroll` keeps the tiles in registers; the innermost contiguous
 * loops stay rolled for the loop vectoriser). Channel tiles at the end of a group read clamped
 * (valid) channels and skip their stores. Geometry as above. */

#define CONV_OT 4
#define CONV_LANES 8

/* y = conv(x, w) + bias, as dot products: a work-item owns CONV_OT output channels of one group at
   one output pixel, with CONV_LANES partial sums each along the input channels (contiguous in both
   x and w), added in a fixed tree at the end. Work-item n = (pixel, group, channel tile), tile
   fastest. global (roundup(B·Ho·Wo·G·tiles, 64)), tiles = ceil((Cout/G)/CONV_OT). */
KERNEL void conv_forward_tiled(
        GLOBAL const ACT *x, int xOff, GLOBAL const ACT *w, int wOff,
        GLOBAL const float *bias, int biasOff, GLOBAL ACT *y, int yOff,
        int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
        int G, int Ho, int Wo, int hasBias, int tiles) {
    const int n = GID(0);
    if (n >= B * Ho * Wo * G * tiles) return;
    const int t = n % tiles, g = (n / tiles) % G, pix = n / (tiles * G);
    const int ow = pix % Wo, oh = (pix / Wo) % Ho, b = pix / (Wo * Ho);
    const int cpg = Cin / G, opg = Cout / G;
    const int co0 = g * opg + t * CONV_OT, cBody = cpg - cpg % CONV_LANES;
    GLOBAL const ACT *wr[CONV_OT];
#pragma unroll
    for (int o = 0; o < CONV_OT; o++) wr[o] = w + wOff + (I64) min(co0 + o, g * opg + opg - 1) * kH * kW * cpg;
    float acc[CONV_OT][CONV_LANES];
#pragma unroll
    for (int o = 0; o < CONV_OT; o++)
#pragma unroll
        for (int l = 0; l < CONV_LANES; l++) acc[o][l] = 0.0f;
    for (int kh = 0; kh < kH; kh++) {
        const int ih = oh * sH - pH + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < kW; kw++) {
            const int iw = ow * sW - pW + kw;
            if (iw < 0 || iw >= W) continue;
            GLOBAL const ACT *xr = x + xOff + ((b * H + ih) * W + iw) * Cin + g * cpg;
            const int tap = (kh * kW + kw) * cpg;
            for (int c = 0; c < cBody; c += CONV_LANES) {
                float xv[CONV_LANES];
#pragma unroll
                for (int l = 0; l < CONV_LANES; l++) xv[l] = ACT_LD(xr[c + l]);
#pragma unroll
                for (int o = 0; o < CONV_OT; o++)
                    for (int l = 0; l < CONV_LANES; l++) acc[o][l] = FMA(xv[l], ACT_LD(wr[o][tap + c + l]), acc[o][l]);
            }
            for (int c = cBody; c < cpg; c++)
#pragma unroll
                for (int o = 0; o < CONV_OT; o++) acc[o][0] = FMA(ACT_LD(xr[c]), ACT_LD(wr[o][tap + c]), acc[o][0]);
        }
    }
    for (int o = 0; o < CONV_OT; o++) {
        if (t * CONV_OT + o >= opg) break;
        float s = ((acc[o][0] + acc[o][4]) + (acc[o][1] + acc[o][5])) + ((acc[o][2] + acc[o][6]) + (acc[o][3] + acc[o][7]));
        if (hasBias) s += bias[biasOff + co0 + o];
        y[yOff + pix * Cout + co0 + o] = ACT_ST(s);
    }
}

/* dx (+)= conv-transpose(dy, w), as outer products: a work-item owns CONV_LANES input channels of
   one group at one input pixel and, for every tap and output channel, adds dy·(a contiguous run of
   w). Four accumulators over co mod 4 hide the FMA latency. Work-item n = (pixel, group, channel
   tile), tile fastest. global (roundup(B·H·W·G·tiles, 64)), tiles = ceil((Cin/G)/CONV_LANES). */
KERNEL void conv_backward_input_tiled(
        GLOBAL const ACT *dy, int dyOff, GLOBAL const ACT *w, int wOff,
        GLOBAL ACT *dx, int dxOff,
        int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
        int G, int Ho, int Wo, int accumulate, int tiles) {
    const int n = GID(0);
    if (n >= B * H * W * G * tiles) return;
    const int t = n % tiles, g = (n / tiles) % G, pix = n / (tiles * G);
    const int iw = pix % W, ih = (pix / W) % H, b = pix / (W * H);
    const int cpg = Cin / G, opg = Cout / G;
    const int cl0 = t * CONV_LANES;
    const bool full = cl0 + CONV_LANES <= cpg;
    const int wStep = kH * kW * cpg;
    float acc[4][CONV_LANES];
#pragma unroll
    for (int q = 0; q < 4; q++)
#pragma unroll
        for (int l = 0; l < CONV_LANES; l++) acc[q][l] = 0.0f;
    for (int kh = 0; kh < kH; kh++) {
        const int th = ih + pH - kh;
        if (th < 0 || th % sH != 0 || th / sH >= Ho) continue;
        const int oh = th / sH;
        for (int kw = 0; kw < kW; kw++) {
            const int tw = iw + pW - kw;
            if (tw < 0 || tw % sW != 0 || tw / sW >= Wo) continue;
            const int ow = tw / sW;
            GLOBAL const ACT *dyr = dy + dyOff + ((b * Ho + oh) * Wo + ow) * Cout + g * opg;
            GLOBAL const ACT *wr = w + wOff + (I64) g * opg * wStep + (kh * kW + kw) * cpg + cl0;
            if (full) {
                int co = 0;
                for (; co + 4 <= opg; co += 4) {
#pragma unroll
                    for (int q = 0; q < 4; q++) {
                        const float d = ACT_LD(dyr[co + q]);
                        GLOBAL const ACT *wq = wr + (I64) (co + q) * wStep;
                        for (int l = 0; l < CONV_LANES; l++) acc[q][l] = FMA(d, ACT_LD(wq[l]), acc[q][l]);
                    }
                }
                for (; co < opg; co++) {
                    const float d = ACT_LD(dyr[co]);
                    GLOBAL const ACT *wq = wr + (I64) co * wStep;
                    for (int l = 0; l < CONV_LANES; l++) acc[0][l] = FMA(d, ACT_LD(wq[l]), acc[0][l]);
                }
            } else {
                for (int co = 0; co < opg; co++) {
                    const float d = ACT_LD(dyr[co]);
                    GLOBAL const ACT *wq = wr + (I64) co * wStep;
#pragma unroll
                    for (int l = 0; l < CONV_LANES; l++) acc[0][l] = FMA(d, ACT_LD(wq[min(l, cpg - 1 - cl0)]), acc[0][l]);
                }
            }
        }
    }
    for (int l = 0; l < CONV_LANES; l++) {
        if (cl0 + l >= cpg) break;
        const float s = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
        const int at = dxOff + pix * Cin + g * cpg + cl0 + l;
        dx[at] = ACT_ST(accumulate ? ACT_LD(dx[at]) + s : s);
    }
}

/* dw[co,kh,kw,c] += Σ_pixels dy[pixel,co]·x[tap pixel, c], one work-item per CONV_OT output channels
   × CONV_LANES input channels of one tap, walking every pixel in order (no index divisions, no
   reduction tree): per pixel CONV_OT scalars of dy times a contiguous run of x. Each image row is
   summed apart and then added to the total, which keeps the rounding error of long sums small.
   Work-item n = (output-channel tile, tap, channel tile), channel tile fastest.
   global (roundup(G·oTiles·kH·kW·cTiles, 64)), oTiles = ceil((Cout/G)/CONV_OT), cTiles = ceil((Cin/G)/CONV_LANES). */
KERNEL void conv_backward_weight_tiled(
        GLOBAL const ACT *x, int xOff, GLOBAL const ACT *dy, int dyOff,
        GLOBAL float *dw, int dwOff,
        int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
        int G, int Ho, int Wo, int oTiles, int cTiles) {
    const int n = GID(0);
    if (n >= G * oTiles * kH * kW * cTiles) return;
    const int ct = n % cTiles, tap = (n / cTiles) % (kH * kW), ot = n / (cTiles * kH * kW);
    const int kw = tap % kW, kh = tap / kW;
    const int g = ot / oTiles, cpg = Cin / G, opg = Cout / G;
    const int co0 = g * opg + (ot % oTiles) * CONV_OT, cl0 = ct * CONV_LANES;
    int coIdx[CONV_OT], cls[CONV_LANES];
#pragma unroll
    for (int o = 0; o < CONV_OT; o++) coIdx[o] = min(co0 + o, g * opg + opg - 1);
#pragma unroll
    for (int l = 0; l < CONV_LANES; l++) cls[l] = g * cpg + min(cl0 + l, cpg - 1);
    const bool full = cl0 + CONV_LANES <= cpg;
    float acc[CONV_OT][CONV_LANES];
#pragma unroll
    for (int o = 0; o < CONV_OT; o++)
#pragma unroll
        for (int l = 0; l < CONV_LANES; l++) acc[o][l] = 0.0f;
    for (int b = 0; b < B; b++) {
        for (int oh = 0; oh < Ho; oh++) {
            const int ih = oh * sH - pH + kh;
            if (ih < 0 || ih >= H) continue;
            float row[CONV_OT][CONV_LANES];
#pragma unroll
            for (int o = 0; o < CONV_OT; o++)
#pragma unroll
                for (int l = 0; l < CONV_LANES; l++) row[o][l] = 0.0f;
            for (int ow = 0; ow < Wo; ow++) {
                const int iw = ow * sW - pW + kw;
                if (iw < 0 || iw >= W) continue;
                GLOBAL const ACT *dyr = dy + dyOff + ((b * Ho + oh) * Wo + ow) * Cout;
                GLOBAL const ACT *xr = x + xOff + ((b * H + ih) * W + iw) * Cin;
                float xv[CONV_LANES];
                if (full) {
#pragma unroll
                    for (int l = 0; l < CONV_LANES; l++) xv[l] = ACT_LD(xr[g * cpg + cl0 + l]);
                } else {
#pragma unroll
                    for (int l = 0; l < CONV_LANES; l++) xv[l] = ACT_LD(xr[cls[l]]);
                }
#pragma unroll
                for (int o = 0; o < CONV_OT; o++) {
                    const float d = ACT_LD(dyr[coIdx[o]]);
                    for (int l = 0; l < CONV_LANES; l++) row[o][l] = FMA(d, xv[l], row[o][l]);
                }
            }
#pragma unroll
            for (int o = 0; o < CONV_OT; o++)
#pragma unroll
                for (int l = 0; l < CONV_LANES; l++) acc[o][l] += row[o][l];
        }
    }
    for (int o = 0; o < CONV_OT; o++) {
        if ((ot % oTiles) * CONV_OT + o >= opg) break;
        for (int l = 0; l < CONV_LANES; l++) {
            if (cl0 + l >= cpg) break;
            dw[dwOff + ((I64) (co0 + o) * kH * kW + tap) * cpg + cl0 + l] += acc[o][l];
        }
    }
}
