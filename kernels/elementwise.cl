/* Elementwise ops, broadcasts over rows and the middle-axis reduction (see org.d2v.backend.Ops).
   One work item per output element unless said otherwise; n is the element count. */

KERNEL void fill(int n, GLOBAL float *x, int xo, float value) {
    int i = GID(0);
    if (i < n) x[xo + i] = value;
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

/* y = alpha·x + beta·y; beta = 0 never reads y (it may hold NaN). */
KERNEL void axpby(int n, float alpha, GLOBAL const float *x, int xo, float beta, GLOBAL float *y, int yo) {
    int i = GID(0);
    if (i >= n) return;
    float r = alpha * x[xo + i];
    if (beta != 0.0f) r += beta * y[yo + i];
    y[yo + i] = r;
}

KERNEL void add(int n, GLOBAL const float *a, int ao, GLOBAL const float *b, int bo, GLOBAL float *out, int oo) {
    int i = GID(0);
    if (i < n) out[oo + i] = a[ao + i] + b[bo + i];
}

KERNEL void mul(int n, GLOBAL const float *a, int ao, GLOBAL const float *b, int bo, GLOBAL float *out, int oo,
                int accumulate) {
    int i = GID(0);
    if (i >= n) return;
    float r = a[ao + i] * b[bo + i];
    out[oo + i] = accumulate ? out[oo + i] + r : r;
}

/* out[i, j] = x[i, j] + v[j], x viewed as [n / m, m]. */
KERNEL void add_broadcast(int n, int m, GLOBAL const float *x, int xo, GLOBAL const float *v, int vo,
                          GLOBAL float *out, int oo) {
    int i = GID(0);
    if (i < n) out[oo + i] = x[xo + i] + v[vo + i % m];
}

/* out[i, k] (+)= alpha · Σ_j x[i, j, k]. One work item per output (i, k), summing its column in
   order (deterministic); neighbours read neighbouring k so loads coalesce. */
KERNEL void reduce_middle(int a, int b, int c, float alpha, GLOBAL const float *x, int xo,
                          GLOBAL float *out, int oo, int accumulate) {
    int e = GID(0);
    if (e >= a * c) return;
    int i = e / c, k = e % c;
    GLOBAL const float *p = x + xo + (I64) i * b * c + k;
    float s = 0.0f;
    for (int j = 0; j < b; j++) s += p[(I64) j * c];
    s *= alpha;
    out[oo + e] = accumulate ? out[oo + e] + s : s;
}

/* First pass of a long column sum: part[i, s, k] = Σ_{j in chunk s} x[i, j, k]; one work item per
   (i, s, k). */
KERNEL void reduce_middle_chunks(int a, int b, int c, int chunk, GLOBAL const float *x, int xo, GLOBAL float *part, int po) {
    int chunks = (b + chunk - 1) / chunk;
    int e = GID(0);
    if (e >= a * chunks * c) return;
    int k = e % c, is = e / c;
    int i = is / chunks, j0 = (is % chunks) * chunk;
    int j1 = j0 + chunk < b ? j0 + chunk : b;
    GLOBAL const float *p = x + xo + (I64) i * b * c + k;
    float s = 0.0f;
    for (int j = j0; j < j1; j++) s += p[(I64) j * c];
    part[po + e] = s;
}

/* dx[i, j, k] (+)= alpha · dout[i, k]. */
KERNEL void broadcast_middle(int a, int b, int c, float alpha, GLOBAL const float *dout, int doo,
                             GLOBAL float *dx, int dxo, int accumulate) {
    int e = GID(0);
    if (e >= a * b * c) return;
    int k = e % c, i = e / (b * c);
    float r = alpha * dout[doo + i * c + k];
    dx[dxo + e] = accumulate ? dx[dxo + e] + r : r;
}

KERNEL void gelu_forward(int n, GLOBAL const float *x, int xo, GLOBAL float *y, int yo) {
    int i = GID(0);
    if (i < n) y[yo + i] = d2v_gelu(x[xo + i]);
}

KERNEL void gelu_backward(int n, GLOBAL const float *x, int xo, GLOBAL const float *dy, int dyo,
                          GLOBAL float *dx, int dxo, int accumulate) {
    int i = GID(0);
    if (i >= n) return;
    float r = dy[dyo + i] * d2v_gelu_grad(x[xo + i]);
    dx[dxo + i] = accumulate ? dx[dxo + i] + r : r;
}
