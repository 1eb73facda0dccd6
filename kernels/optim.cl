/* Optimiser updates over views of the flat parameter buffers: one launch per range. Masters,
   gradients and moments are float in every flavour; a model with bf16 storage also passes the bf16
   working copy of the weights (work, hasWork), which the same launch rounds the new masters into
   (d2v.h's rounding), so no second pass over the parameters refreshes it. */

/* AdamW, fairseq's form (org.d2v.backend.AdamWDesc): decay = lr·wd,
   stepSize = lr·sqrt(1 − β2^t)/(1 − β1^t) and the 1 − β are computed on the host in double
   (1 − 0.999f in float would be off by 1e-5). The gradient scale (the clip factor) is read from
   the device (scale[so], or 1 when hasScale is 0), so the host never waits for the gradient norm. */
KERNEL void adamw(int n, GLOBAL float *p, int po, GLOBAL const float *g, int go, GLOBAL float *m, int mo,
                  GLOBAL float *v, int vo, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                  float eps, float decay, float stepSize, GLOBAL const float *scale, int so, int hasScale,
                  GLOBAL BF16 *work, int wo, int hasWork) {
    int i = GID(0);
    if (i >= n) return;
    float gradScale = hasScale ? scale[so] : 1.0f;
    float gr = g[go + i] * gradScale;
    float mi = beta1 * m[mo + i] + oneMinusBeta1 * gr;
    float vi = beta2 * v[vo + i] + oneMinusBeta2 * gr * gr;
    float pi = p[po + i];
    pi -= decay * pi;
    pi -= stepSize * mi / (SQRT(vi) + eps);
    m[mo + i] = mi;
    v[vo + i] = vi;
    p[po + i] = pi;
    if (hasWork) work[wo + i] = d2v_float_to_bf16(pi);
}

/* teacher = tau·teacher + (1 − tau)·student on the fp32 masters; 1 − tau comes from the host in
   double (tau is often 0.9999). With hasWork, the teacher's bf16 working copy follows in the same launch. */
KERNEL void ema(int n, GLOBAL float *teacher, int to, GLOBAL const float *student, int so, float tau, float oneMinusTau,
                GLOBAL BF16 *work, int wo, int hasWork) {
    int i = GID(0);
    if (i >= n) return;
    float t = tau * teacher[to + i] + oneMinusTau * student[so + i];
    teacher[to + i] = t;
    if (hasWork) work[wo + i] = d2v_float_to_bf16(t);
}

/* Global-norm clipping on the device (org.d2v.backend.Ops#clipFactor): norm = √sumSquares,
   factor = min(1, maxNorm / (norm + 1e-6)), or 1 when maxNorm ≤ 0. One work item. */
KERNEL void clip_factor(GLOBAL const float *sumSquares, int sso, float maxNorm, GLOBAL float *norm, int no,
                        GLOBAL float *factor, int fo) {
    if (GID(0) != 0) return;
    float total = SQRT(sumSquares[sso]);
    norm[no] = total;
    factor[fo] = maxNorm > 0.0f ? FMIN(1.0f, maxNorm / (total + 1e-6f)) : 1.0f;
}
