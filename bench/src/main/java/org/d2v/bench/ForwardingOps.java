package org.d2v.bench;

import static org.d2v.bench.ForwardingDevice.unwrap;

import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.Tensor;

/**
 * An {@link Ops} decorator for a {@link ForwardingDevice}: every op unwraps its tensors to the inner
 * device's buffers and runs the inner op inside {@link #run}, which subclasses override to time or
 * record it. By itself it changes nothing.
 */
public class ForwardingOps implements Ops {
    protected final Ops inner;

    public ForwardingOps(Ops inner) { this.inner = inner; }

    /**
     * Runs one op (or host transfer) named {@code op}; {@code desc} is its descriptor
     * (MatmulDesc, ConvDesc, …) or, for ops without one, the first tensor it writes or null.
     */
    protected void run(String op, Object desc, Runnable body) { body.run(); }

    private static Tensor u(Tensor t) { return unwrap(t); }

    @Override public void fill(Tensor x, double value) { run("fill", x, () -> inner.fill(u(x), value)); }

    @Override public void copy(Tensor src, Tensor dst) { run("copy", dst, () -> inner.copy(u(src), u(dst))); }

    @Override public void cast(Tensor src, Tensor dst, boolean accumulate) { run("cast", dst, () -> inner.cast(u(src), u(dst), accumulate)); }

    @Override public void axpby(double alpha, Tensor x, double beta, Tensor y) { run("axpby", y, () -> inner.axpby(alpha, u(x), beta, u(y))); }

    @Override public void add(Tensor a, Tensor b, Tensor out) { run("add", out, () -> inner.add(u(a), u(b), u(out))); }

    @Override public void mul(Tensor a, Tensor b, Tensor out, boolean accumulate) { run("mul", out, () -> inner.mul(u(a), u(b), u(out), accumulate)); }

    @Override public void addBroadcast(Tensor x, Tensor v, Tensor out) { run("addBroadcast", out, () -> inner.addBroadcast(u(x), u(v), u(out))); }

    @Override
    public void reduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) {
        run("reduceMiddle", x, () -> inner.reduceMiddle(a, b, c, alpha, u(x), u(out), accumulate));
    }

    @Override
    public void broadcastMiddle(int a, int b, int c, double alpha, Tensor dout, Tensor dx, boolean accumulate) {
        run("broadcastMiddle", dx, () -> inner.broadcastMiddle(a, b, c, alpha, u(dout), u(dx), accumulate));
    }

    @Override public void sumSquares(Tensor x, Tensor out, boolean accumulate) { run("sumSquares", x, () -> inner.sumSquares(u(x), u(out), accumulate)); }

    @Override public void sum(Tensor x, Tensor out) { run("sum", x, () -> inner.sum(u(x), u(out))); }

    @Override
    public void matmul(MatmulDesc d, Tensor a, Tensor b, Tensor bias, Tensor c, Tensor preact, boolean accumulate) {
        run("matmul", d, () -> inner.matmul(d, u(a), u(b), u(bias), u(c), u(preact), accumulate));
    }

    @Override public void gelu(Tensor x, Tensor y) { run("gelu", y, () -> inner.gelu(u(x), u(y))); }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        run("geluBackward", dx, () -> inner.geluBackward(u(x), u(dy), u(dx), accumulate));
    }

    @Override
    public void layerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd) {
        run("layerNorm", d, () -> inner.layerNorm(d, u(x), u(gamma), u(beta), u(y), u(mean), u(rstd)));
    }

    @Override
    public void layerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        run("layerNormBackward", d, () -> inner.layerNormBackward(d, u(x), u(gamma), u(mean), u(rstd), u(dy), u(dx),
                u(dgamma), u(dbeta), accumulate));
    }

    @Override
    public void instanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd) {
        run("instanceNorm", y, () -> inner.instanceNorm(batch, time, channels, eps, u(x), u(y), u(mean), u(rstd)));
    }

    @Override
    public void instanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd,
                                     Tensor dy, Tensor dx, boolean accumulate) {
        run("instanceNormBackward", dx, () -> inner.instanceNormBackward(batch, time, channels, u(x), u(mean), u(rstd),
                u(dy), u(dx), accumulate));
    }

    @Override
    public void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                          Tensor keyPadding, Tensor out, Tensor lse) {
        run("attention", d, () -> inner.attention(d, u(qkv), u(alibiSlopes), u(alibiScale), u(positions), u(keyPadding),
                u(out), u(lse)));
    }

    @Override
    public void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions,
                                  Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta,
                                  Tensor dqkv, Tensor dAlibiScale, boolean accumulate) {
        run("attentionBackward", d, () -> inner.attentionBackward(d, u(qkv), u(alibiSlopes), u(alibiScale), u(positions),
                u(keyPadding), u(out), u(dout), u(lse), u(delta), u(dqkv), u(dAlibiScale), accumulate));
    }

    @Override public void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) { run("conv", d, () -> inner.conv(d, u(x), u(w), u(bias), u(y))); }

    @Override
    public void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        run("convBackwardInput", d, () -> inner.convBackwardInput(d, u(dy), u(w), u(dx), accumulate));
    }

    @Override
    public void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        run("convBackwardWeight", d, () -> inner.convBackwardWeight(d, u(x), u(dy), u(dw), u(dbias)));
    }

    @Override public void embedding(Tensor ids, Tensor table, Tensor out) { run("embedding", out, () -> inner.embedding(u(ids), u(table), u(out))); }

    @Override public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) { run("embeddingBackward", dout, () -> inner.embeddingBackward(u(ids), u(dout), u(dtable))); }

    @Override public void gatherRows(Tensor src, Tensor idx, Tensor dst) { run("gatherRows", dst, () -> inner.gatherRows(u(src), u(idx), u(dst))); }

    @Override
    public void scatterRows(Tensor src, Tensor idx, Tensor dst, boolean accumulate) {
        run("scatterRows", src, () -> inner.scatterRows(u(src), u(idx), u(dst), accumulate));
    }

    @Override public void repeatRows(Tensor x, int copies, Tensor out) { run("repeatRows", out, () -> inner.repeatRows(u(x), copies, u(out))); }

    @Override
    public void sumRepeats(Tensor dout, int copies, Tensor dx, boolean accumulate) {
        run("sumRepeats", dout, () -> inner.sumRepeats(u(dout), copies, u(dx), accumulate));
    }

    @Override
    public void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred, double gradScale) {
        run("maskedRegression", d, () -> inner.maskedRegression(d, u(pred), u(target), u(mask), u(loss), u(dpred), gradScale));
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale) {
        run("crossEntropy", logits, () -> inner.crossEntropy(u(logits), u(labels), u(loss), u(dlogits), gradScale));
    }

    @Override public void dropout(Tensor x, Tensor y, double p, long seed, long offset) { run("dropout", y, () -> inner.dropout(u(x), u(y), p, seed, offset)); }

    @Override
    public void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate) {
        run("dropoutBackward", dx, () -> inner.dropoutBackward(u(dy), u(dx), p, seed, offset, accumulate));
    }

    @Override public void normal(Tensor out, double mean, double std, long seed, long offset) { run("normal", out, () -> inner.normal(u(out), mean, std, seed, offset)); }

    @Override public void uniform(Tensor out, long seed, long offset) { run("uniform", out, () -> inner.uniform(u(out), seed, offset)); }

    @Override
    public void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor working) {
        run("adamw", param, () -> inner.adamw(d, u(param), u(grad), u(m), u(v), u(gradScale), u(working)));
    }

    @Override
    public void clipFactor(Tensor sumSquares, double maxNorm, Tensor norm, Tensor factor) {
        run("clipFactor", factor, () -> inner.clipFactor(u(sumSquares), maxNorm, u(norm), u(factor)));
    }

    @Override
    public void meanChannelStd(int n, Tensor mean, Tensor meanSquare, Tensor out) {
        run("meanChannelStd", out, () -> inner.meanChannelStd(n, u(mean), u(meanSquare), u(out)));
    }

    @Override public void takeIndexErrors(Tensor dst) { run("takeIndexErrors", dst, () -> inner.takeIndexErrors(u(dst))); }

    @Override
    public void ema(Tensor teacher, Tensor student, double tau, Tensor working) {
        run("ema", teacher, () -> inner.ema(u(teacher), u(student), tau, u(working)));
    }
}
