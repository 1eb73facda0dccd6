package org.d2v.backend.kernel;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.Tensor;

/**
 * One call of an op that has fast variants, as a value: what {@link KernelOps} hands to
 * {@link FastVariants} (after its own argument checks), what a {@link FastVariant} runs, and what the
 * self-check replays on the portable kernels ({@link #on}) to compare the tensors the op writes
 * ({@link #outputs}). The record's class names the op.
 */
public sealed interface FastCall {
    /** Runs this call through {@code ops} (the self-check: the portable twin). */
    void on(Ops ops);

    /** The tensors the op writes (in place ones included), in a fixed order; null entries are absent outputs. */
    List<Tensor> outputs();

    /** The op's name, as in {@link Ops}: "matmul", "layerNormBackward", ... */
    static String opName(Class<? extends FastCall> op) {
        String s = op.getSimpleName();
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static List<Tensor> list(Tensor... ts) { return Arrays.asList(ts); }

    record Matmul(MatmulDesc d, Tensor a, Tensor b, Tensor bias, Tensor c, Tensor preact, boolean accumulate) implements FastCall {
        public Matmul { Objects.requireNonNull(d); }
        @Override public void on(Ops ops) { ops.matmul(d, a, b, bias, c, preact, accumulate); }
        @Override public List<Tensor> outputs() { return list(c, preact); }
    }

    record Conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) implements FastCall {
        @Override public void on(Ops ops) { ops.conv(d, x, w, bias, y); }
        @Override public List<Tensor> outputs() { return list(y); }
    }

    record ConvBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) implements FastCall {
        @Override public void on(Ops ops) { ops.convBackwardInput(d, dy, w, dx, accumulate); }
        @Override public List<Tensor> outputs() { return list(dx); }
    }

    record ConvBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) implements FastCall {
        @Override public void on(Ops ops) { ops.convBackwardWeight(d, x, dy, dw, dbias); }
        @Override public List<Tensor> outputs() { return list(dw, dbias); }
    }

    /** dropout (accumulate false) and dropoutBackward: the same kernel, y (+)= x · keep / (1 − p). */
    record Dropout(Tensor x, Tensor y, double p, long seed, long offset, boolean accumulate) implements FastCall {
        @Override public void on(Ops ops) { ops.dropoutBackward(x, y, p, seed, offset, accumulate); }
        @Override public List<Tensor> outputs() { return list(y); }
    }

    record Normal(Tensor out, double mean, double std, long seed, long offset) implements FastCall {
        @Override public void on(Ops ops) { ops.normal(out, mean, std, seed, offset); }
        @Override public List<Tensor> outputs() { return list(out); }
    }

    record Add(Tensor a, Tensor b, Tensor out) implements FastCall {
        @Override public void on(Ops ops) { ops.add(a, b, out); }
        @Override public List<Tensor> outputs() { return list(out); }
    }

    record Axpby(double alpha, Tensor x, double beta, Tensor y) implements FastCall {
        @Override public void on(Ops ops) { ops.axpby(alpha, x, beta, y); }
        @Override public List<Tensor> outputs() { return list(y); }
    }

    record ReduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) implements FastCall {
        @Override public void on(Ops ops) { ops.reduceMiddle(a, b, c, alpha, x, out, accumulate); }
        @Override public List<Tensor> outputs() { return list(out); }
    }

    record Gelu(Tensor x, Tensor y) implements FastCall {
        @Override public void on(Ops ops) { ops.gelu(x, y); }
        @Override public List<Tensor> outputs() { return list(y); }
    }

    record GeluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) implements FastCall {
        @Override public void on(Ops ops) { ops.geluBackward(x, dy, dx, accumulate); }
        @Override public List<Tensor> outputs() { return list(dx); }
    }

    record LayerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd) implements FastCall {
        @Override public void on(Ops ops) { ops.layerNorm(d, x, gamma, beta, y, mean, rstd); }
        @Override public List<Tensor> outputs() { return list(y, mean, rstd); }
    }

    record LayerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, Tensor dx,
                             Tensor dgamma, Tensor dbeta, boolean accumulate) implements FastCall {
        @Override public void on(Ops ops) { ops.layerNormBackward(d, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, accumulate); }
        @Override public List<Tensor> outputs() { return list(dx, dgamma, dbeta); }
    }

    record Attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding,
                     Tensor out, Tensor lse) implements FastCall {
        @Override public void on(Ops ops) { ops.attention(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, lse); }
        @Override public List<Tensor> outputs() { return list(out, lse); }
    }

    /** delta is the op's scratch: not an output. */
    record AttentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding,
                             Tensor out, Tensor dout, Tensor lse, Tensor delta, Tensor dqkv, Tensor dAlibiScale, boolean accumulate)
            implements FastCall {
        @Override public void on(Ops ops) {
            ops.attentionBackward(d, qkv, alibiSlopes, alibiScale, positions, keyPadding, out, dout, lse, delta, dqkv, dAlibiScale, accumulate);
        }
        @Override public List<Tensor> outputs() { return list(dqkv, d.alibi() ? dAlibiScale : null); }
    }

    record InstanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd)
            implements FastCall {
        @Override public void on(Ops ops) { ops.instanceNorm(batch, time, channels, eps, x, y, mean, rstd); }
        @Override public List<Tensor> outputs() { return list(y, mean, rstd); }
    }

    record InstanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd, Tensor dy, Tensor dx,
                                boolean accumulate) implements FastCall {
        @Override public void on(Ops ops) { ops.instanceNormBackward(batch, time, channels, x, mean, rstd, dy, dx, accumulate); }
        @Override public List<Tensor> outputs() { return list(dx); }
    }

    record MaskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred, double gradScale)
            implements FastCall {
        @Override public void on(Ops ops) { ops.maskedRegression(d, pred, target, mask, loss, dpred, gradScale); }
        @Override public List<Tensor> outputs() { return list(loss, dpred); }
    }

    /** working: the bf16 working copy of the masters the step also writes (bf16 training), or null. */
    record Adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor working) implements FastCall {
        @Override public void on(Ops ops) { ops.adamw(d, param, grad, m, v, gradScale, working); }
        @Override public List<Tensor> outputs() { return list(param, m, v, working); }
        public Adamw withWorking(Tensor w) { return new Adamw(d, param, grad, m, v, gradScale, w); }
    }

    record Ema(Tensor teacher, Tensor student, double tau, Tensor working) implements FastCall {
        @Override public void on(Ops ops) { ops.ema(teacher, student, tau, working); }
        @Override public List<Tensor> outputs() { return list(teacher, working); }
    }
}
