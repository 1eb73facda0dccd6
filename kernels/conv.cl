/*
 * Grouped 2-D convolution, channels-last, F32 (see ConvDesc): x [B,H,W,Cin],
 * w [Cout,kH,kW,Cin/G], bias [Cout], y [B,Ho,Wo,Cout]. A 1-D convolution is H = kH = 1.
 *
 * Forward and input-grad give each output element to one work-item (direct loops: the channel
 * index is the fastest, so neighbouring work-items read neighbouring memory). Weight-grad and
 * bias-grad are reductions over every output pixel: a work-group per tile of weights (or per
 * bias element), work-items striding over the pixels and a tree in local memory, so the sums
 * are deterministic and need no atomics.
 *
 * Every kernel takes the geometry as ints in this order (ConvKernels.withGeometry):
 * B, Cin, Cout, H, W, kH, kW, sH, sW, pH, pW, G, Ho, Wo.
 */

#define CONV_RED 64
#define CONV_WG 256

/* global (roundup(B·Ho·Wo·Cout, 64)), local (64). */
KERNEL void conv_forward(
        GLOBAL const float *x, int xOff, GLOBAL const float *w, int wOff,
        GLOBAL const float *bias, int biasOff, GLOBAL float *y, int yOff,
        int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
        int G, int Ho, int Wo, int hasBias) {
    const int n = GID(0);
    if (n >= B * Ho * Wo * Cout) return;
    const int co = n % Cout;
    const int pix = n / Cout;
    const int ow = pix % Wo, oh = (pix / Wo) % Ho, b = pix / (Wo * Ho);
    const int cpg = Cin / G, g = co / (Cout / G);
    float sum = hasBias ? bias[biasOff + co] : 0.0f;
    for (int kh = 0; kh < kH; kh++) {
        const int ih = oh * sH - pH + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < kW; kw++) {
            const int iw = ow * sW - pW + kw;
            if (iw < 0 || iw >= W) continue;
            const int xBase = xOff + ((b * H + ih) * W + iw) * Cin + g * cpg;
            const int wBase = wOff + ((co * kH + kh) * kW + kw) * cpg;
            for (int c = 0; c < cpg; c++) sum += x[xBase + c] * w[wBase + c];
        }
    }
    y[yOff + n] = sum;
}

/* dx (+)= conv-transpose(dy, w). global (roundup(B·H·W·Cin, 64)), local (64). */
KERNEL void conv_backward_input(
        GLOBAL const float *dy, int dyOff, GLOBAL const float *w, int wOff,
        GLOBAL float *dx, int dxOff,
        int B, int Cin, int Cout, int H, int W, int kH, int kW, int sH, int sW, int pH, int pW,
        int G, int Ho, int Wo, int accumulate) {
    const int n = GID(0);
    if (n >= B * H * W * Cin) return;
    const int ci = n % Cin;
    const int pix = n / Cin;
    const int iw = pix % W, ih = (pix / W) % H, b = pix / (W * H);
    const int cpg = Cin / G, opg = Cout / G;
    const int g = ci / cpg, cl = ci % cpg;
    float sum = 0.0f;
    for (int kh = 0; kh < kH; kh++) {
        const int th = ih + pH - kh;
        if (th < 0 || th % sH != 0 || th / sH >= Ho) continue;
        const int oh = th / sH;
        for (int kw = 0; kw < kW; kw++) {
            const int tw = iw + pW - kw;
            if (tw < 0 || tw % sW != 0 || tw / sW >= Wo) continue;
            const int ow = tw / sW;
            const int dyBase = dyOff + ((b * Ho + oh) * Wo + ow) * Cout;
            for (int co = g * opg; co < (g + 1) * opg; co++) {
                sum += dy[dyBase + co] * w[wOff + ((co * kH + kh) * kW + kw) * cpg + cl];
            }
        }
    }
    if (accumulate) dx[dxOff + n] += sum;
    else dx[dxOff + n] = sum;
}

/*
 * dw[co,kh,kw,c] += Σ_pixels dy[pixel,co]·x[tap pixel, c]. A work-group of CONV_WG work-items owns
 * wc consecutive channels c of one (co, kh, kw) (wc a power of two, at most 16): work-item
 * (tc, tp) = (lid mod wc, lid / wc) sums channel tc over every (CONV_WG/wc)-th pixel from tp, so
 * neighbouring work-items read neighbouring x and share one dy; then a tree over tp.
 * global (Cout·kH·kW·ceil(cpg/wc) · CONV_WG), local (CONV_WG).
 */
KERNEL void conv_backward_weight(
        GLOBAL const float *x, int xOff, GLOBAL const float *dy, int dyOff,
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
        sum += dy[dyOff + pix * Cout + co] * x[xOff + ((b * H + ih) * W + iw) * Cin + ci];
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
KERNEL void conv_backward_bias(GLOBAL const float *dy, int dyOff, GLOBAL float *dbias, int dbiasOff,
                               int pixels, int Cout) {
    LOCAL_ARRAY(float, red, CONV_RED);
    const int lid = LID(0);
    const int co = GROUP_ID(0);
    float sum = 0.0f;
    for (int pix = lid; pix < pixels; pix += CONV_RED) sum += dy[dyOff + pix * Cout + co];
    const float total = d2v_block_sum(red, sum);
    if (lid == 0) dbias[dbiasOff + co] += total;
}
