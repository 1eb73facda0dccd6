/* Embedding lookups and row gathers/scatters. Ids are checked on the device, where reading them
   back would make the host wait: a bad id reads (or adds into) row clamp(id) and sets err[eo] = 1,
   which the host sees with the step's statistics (org.d2v.backend.Ops#takeIndexErrors). Every
   work item that sees a bad id stores the same 1, so the outcome does not depend on their order.
   Rows are ACT (d2v.h): a bf16 model looks its tokens up in the bf16 working copy of the table, and
   the table's gradient is float (it accumulates into the fp32 gradient buffer). */

DEVICE_FN int d2v_checked_id(int id, int vocab, GLOBAL float *err, int eo) {
    if (id >= 0 && id < vocab) return id;
    err[eo] = 1.0f;
    return id < 0 ? 0 : vocab - 1;
}

/* out[i, :] = table[ids[i], :]; n = ids·dim elements. */
KERNEL void embedding_forward(int n, int dim, int vocab, GLOBAL const int *ids, int io, GLOBAL const ACT *table, int to,
                              GLOBAL ACT *out, int oo, GLOBAL float *err, int eo) {
    int e = GID(0);
    if (e >= n) return;
    int i = e / dim, j = e % dim;
    int id = d2v_checked_id(ids[io + i], vocab, err, eo);
    out[oo + e] = table[to + (I64) id * dim + j];
}

/* The embedding gradient groups positions by id without atomics: the (id, position) pairs are
   sorted on the device (a bitonic sort over a power-of-two length, the padding keyed past every
   id), then one work item per (sorted position, column) that starts a run of equal ids adds the
   run's rows in order of position, the order of the reference backend. */

/* keys[i] = the checked id at position i (i < n), or 0x7fffffff for padding; pos[i] = i. */
KERNEL void embedding_sort_init(int n, int padded, int vocab, GLOBAL const int *ids, int io, GLOBAL int *keys, int ko,
                                GLOBAL int *pos, int po, GLOBAL float *err, int eo) {
    int i = GID(0);
    if (i >= padded) return;
    keys[ko + i] = i < n ? d2v_checked_id(ids[io + i], vocab, err, eo) : 0x7fffffff;
    pos[po + i] = i;
}

/* One compare-exchange pass of the bitonic sort (block size k, distance j) over (key, position)
   pairs, ascending; pairs are distinct (positions are), so the order is total and the result unique. */
KERNEL void bitonic_sort_step(int padded, int j, int k, GLOBAL int *keys, int ko, GLOBAL int *pos, int po) {
    int i = GID(0);
    if (i >= padded) return;
    int l = i ^ j;
    if (l <= i) return;
    int ki = keys[ko + i], kl = keys[ko + l], pi = pos[po + i], pl = pos[po + l];
    int greater = ki > kl || (ki == kl && pi > pl);
    int ascending = (i & k) == 0;
    if (ascending == greater) {
        keys[ko + i] = kl;
        keys[ko + l] = ki;
        pos[po + i] = pl;
        pos[po + l] = pi;
    }
}

/* dtable[id, j] += Σ dout[pos[r], j] over the run of sorted positions r holding id; n·dim work items. */
KERNEL void embedding_backward_sorted(int n, int dim, GLOBAL const int *keys, int ko, GLOBAL const int *pos, int po,
                                      GLOBAL const ACT *dout, int doo, GLOBAL float *dtable, int dto) {

    int e = GID(0);
    if (e >= n * dim) return;
    int i = e / dim, j = e % dim;
    int id = keys[ko + i];
    if (i > 0 && keys[ko + i - 1] == id) return;
    float sum = 0.0f;
    for (int r = i; r < n && keys[ko + r] == id; r++) sum += ACT_LD(dout[doo + (I64) pos[po + r] * dim + j]);
    dtable[dto + (I64) id * dim + j] += sum;
}

/* dst[b, k, :] = src[b, idx[b, k], :]. Grid (dim, batch·kept): a row per work-group row, so the
   row's index is read once and no work-item divides by dim (PoCL vectorises the row; the 1-D form
   with e / dim, e % dim per element ran 3.5x slower there). */
KERNEL void gather_rows(int batch, int tokens, int kept, int dim, GLOBAL const ACT *src, int so,
                        GLOBAL const int *idx, int io, GLOBAL ACT *dst, int dso) {
    int j = GID(0), bk = GID(1) + GID(2) * GLOBAL_SIZE(1); /* rows fold into z past CUDA's 65535 in y */
    if (j >= dim || bk >= batch * kept) return;
    int b = bk / kept;
    dst[dso + (I64) bk * dim + j] = src[so + ((I64) b * tokens + idx[io + bk]) * dim + j];
}

/* dst[b, idx[b, k], :] (+)= src[b, k, :]; the indices of one sample must be distinct. Grid as gather_rows. */
KERNEL void scatter_rows(int batch, int tokens, int kept, int dim, GLOBAL const ACT *src, int so,
                         GLOBAL const int *idx, int io, GLOBAL ACT *dst, int dso, int accumulate) {
    int j = GID(0), bk = GID(1) + GID(2) * GLOBAL_SIZE(1); /* rows fold into z past CUDA's 65535 in y */
    if (j >= dim || bk >= batch * kept) return;
    int b = bk / kept;
    I64 e = (I64) bk * dim + j;
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

/* CPU-shaped twins of gather_rows, scatter_rows, repeat_rows and sum_repeats
   (KernelVariants.Tiled.ROWWISE): one work item moves one whole row with a contiguous loop.
   On PoCL the element-per-work-item kernels above pay integer divisions per element
   (repeat_rows: 4 ns an element, 19× a plain copy) or a work-group per row. */
KERNEL void gather_rows_rowwise(int batch, int tokens, int kept, int dim, GLOBAL const ACT *src, int so,
                                GLOBAL const int *idx, int io, GLOBAL ACT *dst, int dso) {
    int bk = GID(0);
    if (bk >= batch * kept) return;
    int b = bk / kept;
    GLOBAL const ACT *s = src + so + ((I64) b * tokens + idx[io + bk]) * dim;
    GLOBAL ACT *d = dst + dso + (I64) bk * dim;
    for (int j = 0; j < dim; j++) d[j] = s[j];
}

KERNEL void scatter_rows_rowwise(int batch, int tokens, int kept, int dim, GLOBAL const ACT *src, int so,
                                 GLOBAL const int *idx, int io, GLOBAL ACT *dst, int dso, int accumulate) {
    int bk = GID(0);
    if (bk >= batch * kept) return;
    int b = bk / kept;
    GLOBAL const ACT *s = src + so + (I64) bk * dim;
    GLOBAL ACT *d = dst + dso + ((I64) b * tokens + idx[io + bk]) * dim;
    if (accumulate) for (int j = 0; j < dim; j++) d[j] = ACT_ST(ACT_LD(d[j]) + ACT_LD(s[j]));
    else for (int j = 0; j < dim; j++) d[j] = s[j];
}

/* out row r = x row r / copies; rows = out rows. */
KERNEL void repeat_rows_rowwise(int rows, int n, int copies, GLOBAL const ACT *x, int xo, GLOBAL ACT *out, int oo) {
    int r = GID(0);
    if (r >= rows) return;
    GLOBAL const ACT *s = x + xo + (I64) (r / copies) * n;
    GLOBAL ACT *d = out + oo + (I64) r * n;
    for (int j = 0; j < n; j++) d[j] = s[j];
}

/* dx row b (+)= Σ_c dout row b·copies + c, summed in order of c as sum_repeats; rows = dx rows. */
KERNEL void sum_repeats_rowwise(int rows, int n, int copies, GLOBAL const ACT *dout, int doo, GLOBAL ACT *dx, int dxo,
                                int accumulate) {
    int b = GID(0);
    if (b >= rows) return;
    GLOBAL const ACT *s = dout + doo + (I64) b * copies * n;
    GLOBAL ACT *d = dx + dxo + (I64) b * n;
    for (int j = 0; j < n; j++) {
        float v = 0.0f;
        for (int c = 0; c < copies; c++) v += ACT_LD(s[(I64) c * n + j]);
        d[j] = ACT_ST(accumulate ? ACT_LD(d[j]) + v : v);
    }
}
