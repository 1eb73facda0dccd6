/* Embedding lookups and row gathers/scatters. Ids are checked on the host before a lookup. */

/* out[i, :] = table[ids[i], :]; n = ids·dim elements. */
KERNEL void embedding_forward(int n, int dim, GLOBAL const int *ids, int io, GLOBAL const float *table, int to,
                              GLOBAL float *out, int oo) {
    int e = GID(0);
    if (e >= n) return;
    int i = e / dim, j = e % dim;
    out[oo + e] = table[to + (I64) ids[io + i] * dim + j];
}

/* dtable[id, j] += Σ dout[i, j] over the positions i holding id. The host grouped positions by id:
   order[starts[s] .. starts[s+1]) are the positions of segment s. One work item per (s, j). */
KERNEL void embedding_backward(int segments, int dim, GLOBAL const int *ids, int io, GLOBAL const int *order, int oro,
                               GLOBAL const int *starts, int so, GLOBAL const float *dout, int doo,
                               GLOBAL float *dtable, int dto) {
    int e = GID(0);
    if (e >= segments * dim) return;
    int j = e % dim, s = e / dim;
    int begin = starts[so + s], end = starts[so + s + 1];
    int id = ids[io + order[oro + begin]];
    float sum = 0.0f;
    for (int r = begin; r < end; r++) sum += dout[doo + (I64) order[oro + r] * dim + j];
    dtable[dto + (I64) id * dim + j] += sum;
}

/* dst[b, k, :] = src[b, idx[b, k], :]; one work item per dst element. */
KERNEL void gather_rows(int batch, int tokens, int kept, int dim, GLOBAL const float *src, int so,
                        GLOBAL const int *idx, int io, GLOBAL float *dst, int dso) {
    int e = GID(0);
    if (e >= batch * kept * dim) return;
    int j = e % dim, bk = e / dim, b = bk / kept;
    dst[dso + e] = src[so + ((I64) b * tokens + idx[io + bk]) * dim + j];
}

/* dst[b, idx[b, k], :] (+)= src[b, k, :]; the indices of one sample must be distinct. */
KERNEL void scatter_rows(int batch, int tokens, int kept, int dim, GLOBAL const float *src, int so,
                         GLOBAL const int *idx, int io, GLOBAL float *dst, int dso, int accumulate) {
    int e = GID(0);
    if (e >= batch * kept * dim) return;
    int j = e % dim, bk = e / dim, b = bk / kept;
    I64 at = dso + ((I64) b * tokens + idx[io + bk]) * dim + j;
    float v = src[so + e];
    dst[at] = accumulate ? dst[at] + v : v;
}

/* out[b·copies + c, :] = x[b, :]; total = out elements, n = row length. */
KERNEL void repeat_rows(int total, int n, int copies, GLOBAL const float *x, int xo, GLOBAL float *out, int oo) {
    int e = GID(0);
    if (e >= total) return;
    int row = e / n, j = e % n;
    out[oo + e] = x[xo + (I64) (row / copies) * n + j];
}

/* dx[b, :] (+)= Σ_c dout[b·copies + c, :]; one work item per dx element; total = dout elements. */
KERNEL void sum_repeats(int total, int n, int copies, GLOBAL const float *dout, int doo, GLOBAL float *dx, int dxo,
                        int accumulate) {
    int e = GID(0);
    if (e >= total / copies) return;
    int b = e / n, j = e % n;
    float s = 0.0f;
    for (int c = 0; c < copies; c++) s += dout[doo + ((I64) b * copies + c) * n + j];
    dx[dxo + e] = accumulate ? dx[dxo + e] + s : s;
}
