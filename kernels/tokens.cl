/* Embedding lookups and row gathers/scatters. Ids are checked on the host before a lookup. Rows are
   ACT (d2v.h): a bf16 model looks its tokens up in the bf16 working copy of the table, and the
   table's gradient is float (it accumulates into the fp32 gradient buffer). */

/* out[i, :] = table[ids[i], :]; n = ids·dim elements. */
KERNEL void embedding_forward(int n, int dim, GLOBAL const int *ids, int io, GLOBAL const ACT *table, int to,
                              GLOBAL ACT *out, int oo) {
    int e = GID(0);
    if (e >= n) return;
    int i = e / dim, j = e % dim;
    out[oo + e] = table[to + (I64) ids[io + i] * dim + j];
}

/* dtable[id, j] += Σ dout[i, j] over the positions i holding id. The host grouped positions by id:
   order[starts[s] .. starts[s+1]) are the positions of segment s. One work item per (s, j). */
KERNEL void embedding_backward(int segments, int dim, GLOBAL const int *ids, int io, GLOBAL const int *order, int oro,
                               GLOBAL const int *starts, int so, GLOBAL const ACT *dout, int doo,
                               GLOBAL float *dtable, int dto) {
    int e = GID(0);
    if (e >= segments * dim) return;
    int j = e % dim, s = e / dim;
    int begin = starts[so + s], end = starts[so + s + 1];
    int id = ids[io + order[oro + begin]];
    float sum = 0.0f;
    for (int r = begin; r < end; r++) sum += ACT_LD(dout[doo + (I64) order[oro + r] * dim + j]);
    dtable[dto + (I64) id * dim + j] += sum;
}

/* dst[b, k, :] = src[b, idx[b, k], :]; one work item per dst element. */
KERNEL void gather_rows(int batch, int tokens, int kept, int dim, GLOBAL const ACT *src, int so,
                        GLOBAL const int *idx, int io, GLOBAL ACT *dst, int dso) {
    int e = GID(0);
    if (e >= batch * kept * dim) return;
    int j = e % dim, bk = e / dim, b = bk / kept;
    dst[dso + e] = src[so + ((I64) b * tokens + idx[io + bk]) * dim + j];
}

/* dst[b, idx[b, k], :] (+)= src[b, k, :]; the indices of one sample must be distinct. */
KERNEL void scatter_rows(int batch, int tokens, int kept, int dim, GLOBAL const ACT *src, int so,
                         GLOBAL const int *idx, int io, GLOBAL ACT *dst, int dso, int accumulate) {
    int e = GID(0);
    if (e >= batch * kept * dim) return;
    int j = e % dim, bk = e / dim, b = bk / kept;
    I64 at = dso + ((I64) b * tokens + idx[io + bk]) * dim + j;
    dst[at] = accumulate ? ACT_ST(ACT_LD(dst[at]) + ACT_LD(src[so + e])) : src[so + e];
}

/* out[b·copies + c, :] = x[b, :]; total = out elements, n = row length. */
KERNEL void repeat_rows(int total, int n, int copies, GLOBAL const ACT *x, int xo, GLOBAL ACT *out, int oo) {
    int e = GID(0);
    if (e >= total) return;
    int row = e / n, j = e % n;
    out[oo + e] = x[xo + (I64) (row / copies) * n + j];
}

/* dx[b, :] (+)= Σ_c dout[b·copies + c, :]; one work item per dx element; total = dout elements. */
KERNEL void sum_repeats(int total, int n, int copies, GLOBAL const ACT *dout, int doo, GLOBAL ACT *dx, int dxo,
                        int accumulate) {
    int e = GID(0);
    if (e >= total / copies) return;
    int b = e / n, j = e % n;
    float s = 0.0f;
    for (int c = 0; c < copies; c++) s += ACT_LD(dout[doo + ((I64) b * copies + c) * n + j]);
    dx[dxo + e] = ACT_ST(accumulate ? ACT_LD(dx[dxo + e]) + s : s);
}
