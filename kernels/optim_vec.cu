/*
 * Optimiser updates, 16-byte vectorised (CUDA only; the portable twins are optim.cl's adamw and
 * ema: the same fp32 arithmetic in the same order, see AdamWDesc). fp32 master state throughout;
 * each kernel may also write a bf16 working copy of its result in the same pass (pb / tb non-null),
 * so the bf16 weights the forward reads cost no extra launch or read.
 *
 * Units of 8 elements (two 16-byte accesses per fp32 tensor, one per bf16 copy) in a grid-stride
 * loop; unaligned views and the tail take a scalar path. block 256, grid e.g. min(ceil(n/2048), 1056).
 */
#include "bf16.cuh"
#include "warp.cuh"

struct AdamW {
    float beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, decay, stepSize, gradScale;

    /* optim.cl's adamw, element by element */
    __device__ __forceinline__ float step(float &p, float g, float &m, float &v) const {
        const float gr = g * gradScale;
        const float mi = beta1 * m + oneMinusBeta1 * gr;
        const float vi = beta2 * v + oneMinusBeta2 * gr * gr;
        float pi = p;
        pi -= decay * pi;
        pi -= stepSize * mi / (sqrtf(vi) + eps);
        m = mi;
        v = vi;
        p = pi;
        return pi;
    }
};

KERNEL void adamw_vec(int n, GLOBAL float *p, int po, GLOBAL const float *g, int go, GLOBAL float *m, int mo,
                      GLOBAL float *v, int vo, GLOBAL unsigned short *pb, int pbo,
                      float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                      float eps, float decay, float stepSize, float gradScale) {
    const AdamW a = {beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, decay, stepSize, gradScale};
    p += po; g += go; m += mo; v += vo;
    unsigned short *copy = pb ? pb + pbo : 0;
    const bool vec = aligned16(p) && aligned16(g) && aligned16(m) && aligned16(v) && (copy == 0 || aligned16(copy));
    const long long units = vec ? n / 8 : 0;
    for (long long u = grid_first(); u < units; u += grid_step()) {
        const long long i = u * 8;
        float pp[8], gg[8], mm[8], vv[8];
        load8(p + i, pp);
        load8(g + i, gg);
        load8(m + i, mm);
        load8(v + i, vv);
#pragma unroll
        for (int k = 0; k < 8; k++) a.step(pp[k], gg[k], mm[k], vv[k]);
        store8(p + i, pp);
        store8(m + i, mm);
        store8(v + i, vv);
        if (copy) store8(copy + i, pp);
    }
    for (long long i = units * 8 + grid_first(); i < n; i += grid_step()) {
        float pp = p[i], mm = m[i], vv = v[i];
        a.step(pp, g[i], mm, vv);
        p[i] = pp;
        m[i] = mm;
        v[i] = vv;
        if (copy) copy[i] = float_to_bf16(pp);
    }
}

/* teacher = tau·teacher + (1 − tau)·student (optim.cl's ema), and its bf16 copy when tb != null. */
KERNEL void ema_vec(int n, GLOBAL float *teacher, int to, GLOBAL const float *student, int so,
                    GLOBAL unsigned short *tb, int tbo, float tau, float oneMinusTau) {
    teacher += to;
    student += so;
    unsigned short *copy = tb ? tb + tbo : 0;
    const bool vec = aligned16(teacher) && aligned16(student) && (copy == 0 || aligned16(copy));
    const long long units = vec ? n / 8 : 0;
    for (long long u = grid_first(); u < units; u += grid_step()) {
        const long long i = u * 8;
        float t[8], s[8];
        load8(teacher + i, t);
        load8(student + i, s);
#pragma unroll
        for (int k = 0; k < 8; k++) t[k] = tau * t[k] + oneMinusTau * s[k];
        store8(teacher + i, t);
        if (copy) store8(copy + i, t);
    }
    for (long long i = units * 8 + grid_first(); i < n; i += grid_step()) {
        const float t = tau * teacher[i] + oneMinusTau * student[i];
        teacher[i] = t;
        if (copy) copy[i] = float_to_bf16(t);
    }
}
