/* Elementwise ops, broadcasts over rows and the middle-axis reduction (see org.d2v.backend.Ops).
   One work item per output element unless said otherwise; n is the element count. Activations are
   ACT (fp32 or bf16 by flavour, d2v.h); broadcast vectors and reduction results are float. */

KERNEL void fill(int n, GLOBAL ACT *x, int xo, float value) {
    int i = GID(0);
    if (i < n) x[xo + i] = ACT_ST(value);
}

KERNEL void fill_int(int n, GLOBAL int *x, int xo, int value) {
    int i = GID(0);
    if (i < n) x[xo + i] = value;
}

/* A 32-bit copy: serves F32 and I32 tensors alike. */
KERNEL void copy(int n, GLOBAL const U32 *src, int so, GLOBAL U32 *dst, int dsto) {
    int i = GID(0);
    if (i < n) dst[dsto + i] = src[so + i];
}

/* A 16-bit copy: BF16 tensors, bit for bit. */
KERNEL void copy_u16(int n, GLOBAL const U16 *src, int so, GLOBAL U16 *dst, int dsto) {
    int i = GID(0);
    if (i < n) dst[dsto + i] = src[so + i];
}

/* dst (+)= src rounded to bf16 (round to nearest even, d2v.h). */
KERNEL void to_bf16(int n, GLOBAL const float *src, int so, GLOBAL BF16 *dst, int dsto, int accumulate) {
    int i = GID(0);
    if (i >= n) return;
    float v = src[so + i];
    dst[dsto + i] = d2v_float_to_bf16(accumulate ? d2v_bf16_to_float(dst[dsto + i]) + v : v);
}

/* dst (+)= src widened to float (exact). */
KERNEL void from_bf16(int n, GLOBAL const BF16 *src, int so, GLOBAL float *dst, int dsto, int accumulate) {
    int i = GID(0);
    if (i >= n) return;
    float v = d2v_bf16_to_float(src[so + i]);
    dst[dsto + i] = accumulate ? dst[dsto + i] + v : v;
}

/* y = alpha·x + beta·y; beta = 0 never reads y (it may hold NaN). */
KERNEL void axpby(int n, float alpha, GLOBAL const ACT *x, int xo, float beta, GLOBAL ACT *y, int yo) {
    int i = GID(0);
    if (i >= n) return;
    float r = alpha * ACT_LD(x[xo + i]);
    if (beta != 0.0f) r += beta * ACT_LD(y[yo + i]);
    y[yo + i] = ACT_ST(r);
}

KERNEL void add(int n, GLOBAL const ACT *a, int ao, GLOBAL const ACT *b, int bo, GLOBAL ACT *out, int oo) {
    int i = GID(0);
    if (i < n) out[oo + i] = ACT_ST(ACT_LD(a[ao + i]) + ACT_LD(b[bo + i]));
}

KERNEL void mul(int n, GLOBAL const ACT *a, int ao, GLOBAL const ACT *b, int bo, GLOBAL ACT *out, int oo,
                int accumulate) {
    int i = GID(0);
    if (i >= n) return;
    float r = ACT_LD(a[ao + i]) * ACT_LD(b[bo + i]);
    out[oo + i] = ACT_ST(accumulate ? ACT_LD(out[oo + i]) + r : r);
}

/* out[i, j] = x[i, j] + v[j], x viewed as [n / m, m]; v is float (a bias, a position table). */
KERNEL void add_broadcast(int n, int m, GLOBAL const ACT *x, int xo, GLOBAL const float *v, int vo,
                          GLOBAL ACT *out, int oo) {
    int i = GID(0);
    if (i < n) out[oo + i] = ACT_ST(ACT_LD(x[xo + i]) + v[vo + i % m]);
}

/* out[i, k] (+)= alpha · Σ_j x[i, j, k], summed and stored in float. One work item per output
   (i, k), summing its column in order (deterministic); neighbours read neighbouring k so loads
   coalesce. */
KERNEL void reduce_middle(int a, int b, int c, float alpha, GLOBAL const ACT *x, int xo,
                          GLOBAL float *out, int oo, int accumulate) {
    int e = GID(0);
    if (e >= a * c) return;
    int i = e / c, k = e % c;
    GLOBAL const ACT *p = x + xo + (I64) i * b * c + k;
    float s = 0.0f;
    for (int j = 0; j < b; j++) s += ACT_LD(p[(I64) j * c]);
    s *= alpha;
    out[oo + e] = accumulate ? out[oo + e] + s : s;
}

/* First pass of a long column sum: part[i, s, k] = Σ_{j in chunk s} x[i, j, k]; one work item per
   (i, s, k). */
KERNEL void reduce_middle_chunks(int a, int b, int c, int chunk, GLOBAL const ACT *x, int xo, GLOBAL float *part, int po) {
    int chunks = (b + chunk - 1) / chunk;
    int e = GID(0);
    if (e >= a * chunks * c) return;
    int k = e % c, is = e / c;
    int i = is / chunks, j0 = (is % chunks) * chunk;
    int j1 = j0 + chunk < b ? j0 + chunk : b;
    GLOBAL const ACT *p = x + xo + (I64) i * b * c + k;
    float s = 0.0f;
    for (int j = j0; j < j1; j++) s += ACT_LD(p[(I64) j * c]);
    part[po + e] = s;
}

/* dx[i, j, k] (+)= alpha · dout[i, k]: the adjoint of reduce_middle (dout is float). */
KERNEL void broadcast_middle(int a, int b, int c, float alpha, GLOBAL const float *dout, int doo,
                             GLOBAL ACT *dx, int dxo, int accumulate) {
    int e = GID(0);
    if (e >= a * b * c) return;
    int k = e % c, i = e / (b * c);
    float r = alpha * dout[doo + i * c + k];
    dx[dxo + e] = ACT_ST(accumulate ? ACT_LD(dx[dxo + e]) + r : r);
}

/* CPU-shaped twins of add_broadcast and broadcast_middle (KernelVariants.Tiled.ROWWISE): one work
   item per row of the broadcast vector's length, walking it contiguously, instead of a work item
   per element with its integer division (scalar on a CPU: several times the cost of the add). */
KERNEL void add_broadcast_rowwise(int rows, int m, GLOBAL const ACT *x, int xo, GLOBAL const float *v, int vo,
                                  GLOBAL ACT *out, int oo) {
    int r = GID(0);
    if (r >= rows) return;
    I64 base = (I64) r * m;
    for (int j = 0; j < m; j++) out[oo + base + j] = ACT_ST(ACT_LD(x[xo + base + j]) + v[vo + j]);
}

/* Row (i, j) of dx [a, b, c] (+)= alpha · dout[i, :]; rows = a · b. */
KERNEL void broadcast_middle_rowwise(int rows, int b, int c, float alpha, GLOBAL const float *dout, int doo,
                                     GLOBAL ACT *dx, int dxo, int accumulate) {
    int r = GID(0);
    if (r >= rows) return;
    GLOBAL const float *d = dout + doo + (I64) (r / b) * c;
    GLOBAL ACT *o = dx + dxo + (I64) r * c;
    if (accumulate) for (int k = 0; k < c; k++) o[k] = ACT_ST(ACT_LD(o[k]) + alpha * d[k]);
    else for (int k = 0; k < c; k++) o[k] = ACT_ST(alpha * d[k]);
}

KERNEL void gelu_forward(int n, GLOBAL const ACT *x, int xo, GLOBAL ACT *y, int yo) {
    int i = GID(0);
    if (i < n) y[yo + i] = ACT_ST(d2v_gelu(ACT_LD(x[xo + i])));
}

KERNEL void gelu_backward(int n, GLOBAL const ACT *x, int xo, GLOBAL const ACT *dy, int dyo,
                          GLOBAL ACT *dx, int dxo, int accumulate) {
    int i = GID(0);
    if (i >= n) return;
    float r = ACT_LD(dy[dyo + i]) * d2v_gelu_grad(ACT_LD(x[xo + i]));
    dx[dxo + i] = ACT_ST(accumulate ? ACT_LD(dx[dxo + i]) + r : r);
}
