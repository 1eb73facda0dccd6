package org.d2v.backend;

import org.d2v.tensor.Tensor;

/**
 * The op set of d2v: everything data2vec 2.0 needs, forward and backward. The reference backend
 * implements it in plain Java (the oracle); the kernel backend implements it once over a
 * KernelRuntime for OpenCL and CUDA.
 *
 * <p>Rules every implementation follows:
 * <ul>
 *   <li>Tensors are contiguous row-major views (buffer + offset + shape); every output is passed
 *       in, nothing is allocated behind the caller's back.</li>
 *   <li>{@code accumulate} means {@code out += result}; otherwise {@code out = result}. Backward
 *       ops that produce parameter gradients always accumulate (gradients live in one flat buffer
 *       zeroed once per step).</li>
 *   <li>Integer inputs (ids, indices, masks, positions) are {@code I32} tensors.</li>
 *   <li>Random numbers come from {@link Philox} streams (seed, offset) so that every backend draws
 *       the same numbers.</li>
 *   <li>Activations may be stored in BF16 (docs/precision.md): every op then reads and writes its
 *       activations in BF16 and computes in float; statistics (LayerNorm mean/rstd, attention
 *       lse/delta), reductions ({@link #reduceMiddle}, sums), losses, broadcast vectors (biases,
 *       position tables, LayerNorm gamma/beta), parameter gradients and optimiser state are F32.
 *       A GEMM's result is BF16 or F32 (bf16 products accumulating into fp32 gradients).</li>
 * </ul>
 */
public interface Ops {

    // ---- memory and elementwise ----------------------------------------------------------------

    void fill(Tensor x, double value);

    void copy(Tensor src, Tensor dst);

    /**
     * dst (+)= src converted to dst's dtype (F32 ↔ BF16: rounding to nearest even on the way down,
     * exact on the way up; the same dtype is a copy or an add). The mixed-precision boundary: a
     * parameter read as an activation, an fp32 result read by a bf16 op, and (accumulate) a bf16
     * gradient added into an fp32 one.
     */
    void cast(Tensor src, Tensor dst, boolean accumulate);

    /** y = alpha·x + beta·y, elementwise (beta = 0 ignores y's old contents, even NaN). */
    void axpby(double alpha, Tensor x, double beta, Tensor y);

    /** out = a + b, same shapes. */
    void add(Tensor a, Tensor b, Tensor out);

    /** out = a ⊙ b, same shapes; with accumulate, out += a ⊙ b. */
    void mul(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /**
     * Broadcast add: x viewed as [outer, v.numel()]; out[i, j] = x[i, j] + v[j]. Adds a bias to
     * every row, or a position table to every sample.
     */
    void addBroadcast(Tensor x, Tensor v, Tensor out);

    /**
     * Reduction over the middle axis: x viewed as [a, b, c], out [a, c]:
     * out[i, k] (+)= alpha · Σ_j x[i, j, k]. With a = 1 this sums rows (bias gradients); with
     * alpha = 1/b it is mean pooling over time.
     */
    void reduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate);

    /** The adjoint of {@link #reduceMiddle}: dx[i, j, k] (+)= alpha · dout[i, k]. */
    void broadcastMiddle(int a, int b, int c, double alpha, Tensor dout, Tensor dx, boolean accumulate);

    /** out[0] (+)= Σ x². Used for the global gradient norm over the flat gradient buffer. */
    void sumSquares(Tensor x, Tensor out, boolean accumulate);

    /** out[0] = Σ x. */
    void sum(Tensor x, Tensor out);

    /**
     * The spread of n samples per channel from their moments, as fairseq's compute_var reports it
     * (docs/algorithm.md §7.3): mean and meanSquare [C] hold the per-channel means of x and x²;
     * out[0] = (1/C)·Σ_c sqrt(max(0, meanSquare[c] − mean[c]²)·n/max(1, n − 1) + 1e-6).
     */
    void meanChannelStd(int n, Tensor mean, Tensor meanSquare, Tensor out);

    // ---- GEMM ----------------------------------------------------------------------------------

    /**
     * C = act(op(A)·op(B) + bias) (see {@link MatmulDesc}); bias may be null. With a GELU
     * activation, {@code preact} (if not null) receives op(A)·op(B) + bias for the backward pass.
     * {@code accumulate} (C += …) is only allowed without an activation.
     */
    void matmul(MatmulDesc d, Tensor a, Tensor b, Tensor bias, Tensor c, Tensor preact, boolean accumulate);

    // ---- activations -----------------------------------------------------------------------------

    /** y = GELU(x) in the exact erf form: x·Φ(x). */
    void gelu(Tensor x, Tensor y);

    /** dx (+)= dy · GELU'(x). */
    void geluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate);

    // ---- normalisation ---------------------------------------------------------------------------

    /**
     * LayerNorm over the last dim: y = (x − mean)·rstd·gamma + beta; gamma and beta may be null
     * (non-affine). mean and rstd [rows] are written for backward.
     */
    void layerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd);

    /** dx (+)= …; dgamma and dbeta (if not null) always accumulate. */
    void layerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy,
                           Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate);

    /**
     * Instance norm over time, no affine (docs/algorithm.md §5 targets): x, y [batch, time, channels]; each
     * (batch, channel) is normalised over time with the biased variance and eps. mean and rstd are
     * [batch, channels].
     */
    void instanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd);

    void instanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd,
                              Tensor dy, Tensor dx, boolean accumulate);

    // ---- attention -------------------------------------------------------------------------------

    /**
     * Fused multi-head attention (see {@link AttentionDesc}). alibiSlopes, alibiScale [heads] and
     * positions [batch, tokens] are used when d.alibi(); keyPadding [batch, tokens] when
     * d.keyPadding(); otherwise they may be null.
     */
    void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                   Tensor keyPadding, Tensor out, Tensor lse);

    /**
     * Backward of {@link #attention}: recomputes the probabilities from qkv and lse rather than
     * storing them. {@code delta} [batch, heads, tokens] is scratch. dqkv (+)= …; dAlibiScale
     * (if alibi) always accumulates.
     */
    void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                           Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta,
                           Tensor dqkv, Tensor dAlibiScale, boolean accumulate);

    // ---- convolution -----------------------------------------------------------------------------

    /** y = conv(x, w) + bias (bias may be null); see {@link ConvDesc} for layouts. */
    void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y);

    /** dx (+)= conv-transpose(dy, w). */
    void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate);

    /** dw += correlation(x, dy); dbias (if not null) += Σ dy. */
    void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias);

    // ---- tokens ----------------------------------------------------------------------------------

    /**
     * out[i, :] = table[ids[i], :]; ids [n], table [vocab, dim], out [n, dim]. Bad ids throw: at
     * once on the reference backend; a kernel backend checks them on the device (reading the ids
     * back would wait for it), reads row clamp(id) instead and raises its index-error flag, which
     * {@link #takeIndexErrors} hands over and which otherwise makes the device's next download throw.
     */
    void embedding(Tensor ids, Tensor table, Tensor out);

    /** dtable[ids[i], :] += dout[i, :], in order of i for each row; bad ids as in {@link #embedding}. */
    void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable);

    /** dst[b, k, :] = src[b, idx[b, k], :]; src [batch, tokens, dim], idx [batch, kept], dst [batch, kept, dim]. */
    void gatherRows(Tensor src, Tensor idx, Tensor dst);

    /**
     * dst[b, idx[b, k], :] (+)= src[b, k, :]. Rows of dst not named by idx are left as they are,
     * which is how masked slots keep the noise written there before (docs/algorithm.md §6).
     */
    void scatterRows(Tensor src, Tensor idx, Tensor dst, boolean accumulate);

    /** out[b·copies + c, :] = x[b, :]: x [batch, n], out [batch·copies, n] (multi-mask clones). */
    void repeatRows(Tensor x, int copies, Tensor out);

    /** dx[b, :] (+)= Σ_c dout[b·copies + c, :]. */
    void sumRepeats(Tensor dout, int copies, Tensor dx, boolean accumulate);

    // ---- losses ----------------------------------------------------------------------------------

    /**
     * Masked regression (see {@link LossDesc}), forward and backward in one pass. loss [1] receives
     * the loss; dpred (if not null) receives gradScale·∂loss/∂pred (zero at unmasked slots). The
     * target is in pred's compute dtype (F32 for BF16 predictions).
     */
    void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred,
                          double gradScale);

    /**
     * Softmax cross-entropy, mean over rows: logits [rows, classes], labels [rows]. loss [1];
     * dlogits (if not null) receives gradScale·∂loss/∂logits. Bad labels as bad ids in {@link #embedding}.
     */
    void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale);

    /**
     * Moves the index-error flag into dst[0] (one element of a float dtype) and clears it: 1 if an
     * embedding id or cross-entropy label since the last call was out of range, else 0. A training
     * step copies it into its device statistics, so the host sees it with them, naming the step.
     * The reference backend throws at the bad id instead and writes 0 here.
     */
    void takeIndexErrors(Tensor dst);

    // ---- randomness ------------------------------------------------------------------------------

    /** y = x · keep / (1 − p), keep[i] from Philox (seed, offset) word i (see {@link Philox}). */
    void dropout(Tensor x, Tensor y, double p, long seed, long offset);

    /** dx (+)= dy · keep / (1 − p), with the same mask as the forward call. */
    void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate);

    /** out[i] = mean + std · N(0,1) from Philox (seed, offset) (see {@link Philox#normal}). */
    void normal(Tensor out, double mean, double std, long seed, long offset);

    /** out[i] = uniform [0, 1) from Philox (seed, offset) word i. */
    void uniform(Tensor out, long seed, long offset);

    // ---- optimisation ----------------------------------------------------------------------------

    /**
     * One AdamW step over a range of the flat parameter buffer (all four views share a layout),
     * the gradients scaled by gradScale[0] (a one-element device tensor, e.g. the clip factor of
     * {@link #clipFactor}; null: 1).
     */
    default void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale) {
        adamw(d, param, grad, m, v, gradScale, null);
    }

    /**
     * {@link #adamw(AdamWDesc, Tensor, Tensor, Tensor, Tensor, Tensor)} that also writes the new
     * parameters, rounded to working's dtype, into {@code working} (the bf16 working copy of a
     * mixed-precision model, same layout; null: none), in the same pass.
     */
    void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor working);

    /**
     * Global-norm clipping on the device (fairseq's clip_grad_norm_): from sumSquares[0] = Σ g²,
     * norm[0] = √Σ g² and factor[0] = min(1, maxNorm / (norm + 1e-6)), or 1 when maxNorm ≤ 0
     * (clipping off). Both outputs are one-element tensors; the factor feeds {@link #adamw}.
     */
    void clipFactor(Tensor sumSquares, double maxNorm, Tensor norm, Tensor factor);

    /** teacher = tau·teacher + (1 − tau)·student, elementwise (docs/algorithm.md §5). */
    default void ema(Tensor teacher, Tensor student, double tau) { ema(teacher, student, tau, null); }

    /** {@link #ema(Tensor, Tensor, double)} on the masters, writing the new teacher also into {@code working} (its bf16 copy; null: none). */
    void ema(Tensor teacher, Tensor student, double tau, Tensor working);
}
