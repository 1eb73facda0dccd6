/* Fused losses: each writes its gradient and REDUCE_GROUPS partial sums of the loss (fixed
   work-groups, fixed order: deterministic); reduce.cl's finish_sum turns those into the loss.
   Predictions, logits and their gradients are ACT (d2v.h); targets (averages of teacher layers)
   and the loss are float. */

#define LOSS_LOCAL 256

/* Masked regression (org.d2v.backend.LossDesc): pred [rows, tokens, dim], target [rows/clones, tokens,
   dim], mask [rows, tokens]. partials get Σ_masked (pred − target)²; dpred = gradCoef·(pred − target)
   at masked slots and 0 elsewhere. */
KERNEL void masked_regression(int n, int tokens, int dim, int clones, GLOBAL const ACT *pred, int po,
                              GLOBAL const float *target, int to, GLOBAL const int *mask, int mo,
                              GLOBAL ACT *dpred, int dpo, int hasDpred, float gradCoef,
                              GLOBAL float *partials, int pao) {
    LOCAL_ARRAY(float, buf, LOSS_LOCAL);
    int slot = tokens * dim;
    float s = 0.0f;
    for (int e = GID(0); e < n; e += GLOBAL_SIZE(0)) {
        int r = e / slot, rem = e % slot;
        int masked = mask[mo + r * tokens + rem / dim] != 0;
        float diff = ACT_LD(pred[po + e]) - target[to + (I64) (r / clones) * slot + rem];
        if (masked) s += diff * diff;
        if (hasDpred) dpred[dpo + e] = ACT_ST(masked ? gradCoef * diff : 0.0f);
    }
    float total = d2v_block_sum(buf, s);
    if (LID(0) == 0) partials[pao + GROUP_ID(0)] = total;
}

/* CPU-shaped masked_regression (KernelVariants.Tiled.REDUCTION): no barriers. Work item i takes
   the (row, token) slots [i·chunk, (i+1)·chunk) and walks each slot's dim values contiguously, so
   the divisions that locate a slot's mask and target happen once a slot rather than three times
   an element; its sum of squares goes to partials[i] (four interleaved accumulators). */
KERNEL void masked_regression_chunks(int n, int tokens, int dim, int clones, int chunk, GLOBAL const ACT *pred, int po,
                                     GLOBAL const float *target, int to, GLOBAL const int *mask, int mo,
                                     GLOBAL ACT *dpred, int dpo, int hasDpred, float gradCoef,
                                     GLOBAL float *partials, int pao) {
    int i = GID(0), slots = n / dim;
    int lo = i * chunk, hi = lo + chunk < slots ? lo + chunk : slots;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (int q = lo; q < hi; q++) {
        int r = q / tokens, t = q - r * tokens;
        int masked = mask[mo + q] != 0;
        GLOBAL const ACT *p = pred + po + (I64) q * dim;
        GLOBAL const float *tg = target + to + ((I64) (r / clones) * tokens + t) * dim;
        if (hasDpred) {
            GLOBAL ACT *dp = dpred + dpo + (I64) q * dim;
            for (int j = 0; j < dim; j++) dp[j] = ACT_ST(masked ? gradCoef * (ACT_LD(p[j]) - tg[j]) : 0.0f);
        }
        if (!masked) continue;
        int j = 0;
        for (; j + 4 <= dim; j += 4) {
            float d0 = ACT_LD(p[j]) - tg[j], d1 = ACT_LD(p[j + 1]) - tg[j + 1];
            float d2 = ACT_LD(p[j + 2]) - tg[j + 2], d3 = ACT_LD(p[j + 3]) - tg[j + 3];
            s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
        }
        for (; j < dim; j++) { float d = ACT_LD(p[j]) - tg[j]; s0 += d * d; }
    }
    partials[pao + i] = (s0 + s1) + (s2 + s3);
}

/* Softmax cross-entropy: work-group g takes rows g, g + groups, ...; partials get Σ (lse − logit[label])
   over its rows; dlogits = gradCoef·(softmax − onehot). With m the row max, S the sum of
   exp(l_j − m) over j ≠ label and e = exp(l_label − m), the loss is (m − l_label) + log1p((e − 1) + S)
   and 1 − p_label = S / (e + S): no cancellation when the label wins by a wide margin (tiny losses). */
KERNEL void cross_entropy(int rows, int classes, GLOBAL const ACT *logits, int lo, GLOBAL const int *labels, int lao,
                          GLOBAL ACT *dlogits, int dlo, int hasD, float gradCoef, GLOBAL float *partials, int pao,
                          GLOBAL float *err, int eo) {
    LOCAL_ARRAY(float, buf, LOSS_LOCAL);
    int lid = LID(0);
    float rowLosses = 0.0f;
    for (int row = GROUP_ID(0); row < rows; row += NUM_GROUPS(0)) {
        GLOBAL const ACT *l = logits + lo + (I64) row * classes;
        int label = labels[lao + row];
        if (label < 0 || label >= classes) { /* checked here, not on the host (see tokens.cl): clamp and flag */
            if (lid == 0) err[eo] = 1.0f;
            label = label < 0 ? 0 : classes - 1;
        }
        float mx = -D2V_INF;
        for (int j = lid; j < classes; j += LOSS_LOCAL) mx = FMAX(mx, ACT_LD(l[j]));
        mx = d2v_block_max(buf, mx);
        float s = 0.0f;
        for (int j = lid; j < classes; j += LOSS_LOCAL) if (j != label) s += EXP(ACT_LD(l[j]) - mx);
        float others = d2v_block_sum(buf, s);
        float ll = ACT_LD(l[label]);
        float e = EXP(ll - mx), z = e + others;
        rowLosses += (mx - ll) + LOG1P((e - 1.0f) + others);
        if (hasD) {
            GLOBAL ACT *d = dlogits + dlo + (I64) row * classes;
            for (int j = lid; j < classes; j += LOSS_LOCAL) {
                d[j] = ACT_ST(gradCoef * (j == label ? -others / z : EXP(ACT_LD(l[j]) - mx) / z));
            }
        }
    }
    if (lid == 0) partials[pao + GROUP_ID(0)] = rowLosses;
}
