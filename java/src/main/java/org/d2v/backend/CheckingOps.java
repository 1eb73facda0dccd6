package org.d2v.backend;

import org.d2v.tensor.Tensor;

/**
 * The op decorator of {@link CheckingDevice}: each op runs on the inner device's ops with its
 * tensors unwrapped, then the device checks the op's outputs (the tensors the op writes, as
 * {@link Ops} documents them; inputs were checked as the outputs of the ops that made them).
 */
final class CheckingOps implements Ops {
    private final CheckingDevice device;
    private final Ops inner;

    CheckingOps(CheckingDevice device, Ops inner) {
        this.device = device;
        this.inner = inner;
    }

    private static Tensor u(Tensor t) { return CheckingDevice.unwrap(t); }

    @Override
    public void fill(Tensor x, double value) {
        inner.fill(u(x), value);
        device.checkOutputs("fill", new String[] {"x"}, x);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        inner.copy(u(src), u(dst));
        device.checkOutputs("copy", new String[] {"dst"}, dst);
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        inner.axpby(alpha, u(x), beta, u(y));
        device.checkOutputs("axpby", new String[] {"y"}, y);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        inner.add(u(a), u(b), u(out));
        device.checkOutputs("add", new String[] {"out"}, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        inner.mul(u(a), u(b), u(out), accumulate);
        device.checkOutputs("mul", new String[] {"out"}, out);
    }

    @Override
    public void addBroadcast(Tensor x, Tensor v, Tensor out) {
        inner.addBroadcast(u(x), u(v), u(out));
        device.checkOutputs("addBroadcast", new String[] {"out"}, out);
    }

    @Override
    public void reduceMiddle(int a, int b, int c, double alpha, Tensor x, Tensor out, boolean accumulate) {
        inner.reduceMiddle(a, b, c, alpha, u(x), u(out), accumulate);
        device.checkOutputs("reduceMiddle", new String[] {"out"}, out);
    }

    @Override
    public void broadcastMiddle(int a, int b, int c, double alpha, Tensor dout, Tensor dx, boolean accumulate) {
        inner.broadcastMiddle(a, b, c, alpha, u(dout), u(dx), accumulate);
        device.checkOutputs("broadcastMiddle", new String[] {"dx"}, dx);
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        inner.sumSquares(u(x), u(out), accumulate);
        device.checkOutputs("sumSquares", new String[] {"out"}, out);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        inner.sum(u(x), u(out));
        device.checkOutputs("sum", new String[] {"out"}, out);
    }

    @Override
    public void meanChannelStd(int n, Tensor mean, Tensor meanSquare, Tensor out) {
        inner.meanChannelStd(n, u(mean), u(meanSquare), u(out));
        device.checkOutputs("meanChannelStd", new String[] {"out"}, out);
    }

    @Override
    public void matmul(MatmulDesc d, Tensor a, Tensor b, Tensor bias, Tensor c, Tensor preact, boolean accumulate) {
        inner.matmul(d, u(a), u(b), u(bias), u(c), u(preact), accumulate);
        device.checkOutputs("matmul", new String[] {"c", "preact"}, c, preact);
    }

    @Override
    public void gelu(Tensor x, Tensor y) {
        inner.gelu(u(x), u(y));
        device.checkOutputs("gelu", new String[] {"y"}, y);
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        inner.geluBackward(u(x), u(dy), u(dx), accumulate);
        device.checkOutputs("geluBackward", new String[] {"dx"}, dx);
    }

    @Override
    public void layerNorm(NormDesc d, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd) {
        inner.layerNorm(d, u(x), u(gamma), u(beta), u(y), u(mean), u(rstd));
        device.checkOutputs("layerNorm", new String[] {"y", "mean", "rstd"}, y, mean, rstd);
    }

    @Override
    public void layerNormBackward(NormDesc d, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        inner.layerNormBackward(d, u(x), u(gamma), u(mean), u(rstd), u(dy), u(dx), u(dgamma), u(dbeta), accumulate);
        device.checkOutputs("layerNormBackward", new String[] {"dx", "dgamma", "dbeta"}, dx, dgamma, dbeta);
    }

    @Override
    public void instanceNorm(int batch, int time, int channels, double eps, Tensor x, Tensor y, Tensor mean, Tensor rstd) {
        inner.instanceNorm(batch, time, channels, eps, u(x), u(y), u(mean), u(rstd));
        device.checkOutputs("instanceNorm", new String[] {"y", "mean", "rstd"}, y, mean, rstd);
    }

    @Override
    public void instanceNormBackward(int batch, int time, int channels, Tensor x, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, boolean accumulate) {
        inner.instanceNormBackward(batch, time, channels, u(x), u(mean), u(rstd), u(dy), u(dx), accumulate);
        device.checkOutputs("instanceNormBackward", new String[] {"dx"}, dx);
    }

    @Override
    public void attention(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor lse) {
        inner.attention(d, u(qkv), u(alibiSlopes), u(alibiScale), u(positions), u(keyPadding), u(out), u(lse));
        device.checkOutputs("attention", new String[] {"out", "lse"}, out, lse);
    }

    @Override
    public void attentionBackward(AttentionDesc d, Tensor qkv, Tensor alibiSlopes, Tensor alibiScale, Tensor positions, Tensor keyPadding, Tensor out, Tensor dout, Tensor lse, Tensor delta, Tensor dqkv, Tensor dAlibiScale, boolean accumulate) {
        inner.attentionBackward(d, u(qkv), u(alibiSlopes), u(alibiScale), u(positions), u(keyPadding), u(out), u(dout), u(lse), u(delta), u(dqkv), u(dAlibiScale), accumulate);
        device.checkOutputs("attentionBackward", new String[] {"dqkv", "dAlibiScale"}, dqkv, dAlibiScale);
    }

    @Override
    public void conv(ConvDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        inner.conv(d, u(x), u(w), u(bias), u(y));
        device.checkOutputs("conv", new String[] {"y"}, y);
    }

    @Override
    public void convBackwardInput(ConvDesc d, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        inner.convBackwardInput(d, u(dy), u(w), u(dx), accumulate);
        device.checkOutputs("convBackwardInput", new String[] {"dx"}, dx);
    }

    @Override
    public void convBackwardWeight(ConvDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        inner.convBackwardWeight(d, u(x), u(dy), u(dw), u(dbias));
        device.checkOutputs("convBackwardWeight", new String[] {"dw", "dbias"}, dw, dbias);
    }

    @Override
    public void embedding(Tensor ids, Tensor table, Tensor out) {
        inner.embedding(u(ids), u(table), u(out));
        device.checkOutputs("embedding", new String[] {"out"}, out);
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        inner.embeddingBackward(u(ids), u(dout), u(dtable));
        device.checkOutputs("embeddingBackward", new String[] {"dtable"}, dtable);
    }

    @Override
    public void gatherRows(Tensor src, Tensor idx, Tensor dst) {
        inner.gatherRows(u(src), u(idx), u(dst));
        device.checkOutputs("gatherRows", new String[] {"dst"}, dst);
    }

    @Override
    public void scatterRows(Tensor src, Tensor idx, Tensor dst, boolean accumulate) {
        inner.scatterRows(u(src), u(idx), u(dst), accumulate);
        device.checkOutputs("scatterRows", new String[] {"dst"}, dst);
    }

    @Override
    public void repeatRows(Tensor x, int copies, Tensor out) {
        inner.repeatRows(u(x), copies, u(out));
        device.checkOutputs("repeatRows", new String[] {"out"}, out);
    }

    @Override
    public void sumRepeats(Tensor dout, int copies, Tensor dx, boolean accumulate) {
        inner.sumRepeats(u(dout), copies, u(dx), accumulate);
        device.checkOutputs("sumRepeats", new String[] {"dx"}, dx);
    }

    @Override
    public void maskedRegression(LossDesc d, Tensor pred, Tensor target, Tensor mask, Tensor loss, Tensor dpred, double gradScale) {
        inner.maskedRegression(d, u(pred), u(target), u(mask), u(loss), u(dpred), gradScale);
        device.checkOutputs("maskedRegression", new String[] {"loss", "dpred"}, loss, dpred);
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor dlogits, double gradScale) {
        inner.crossEntropy(u(logits), u(labels), u(loss), u(dlogits), gradScale);
        device.checkOutputs("crossEntropy", new String[] {"loss", "dlogits"}, loss, dlogits);
    }

    @Override
    public void takeIndexErrors(Tensor dst) {
        inner.takeIndexErrors(u(dst));
        // the index-error flag is 0 or 1, never a float to check
    }

    @Override
    public void dropout(Tensor x, Tensor y, double p, long seed, long offset) {
        inner.dropout(u(x), u(y), p, seed, offset);
        device.checkOutputs("dropout", new String[] {"y"}, y);
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor dx, double p, long seed, long offset, boolean accumulate) {
        inner.dropoutBackward(u(dy), u(dx), p, seed, offset, accumulate);
        device.checkOutputs("dropoutBackward", new String[] {"dx"}, dx);
    }

    @Override
    public void normal(Tensor out, double mean, double std, long seed, long offset) {
        inner.normal(u(out), mean, std, seed, offset);
        device.checkOutputs("normal", new String[] {"out"}, out);
    }

    @Override
    public void uniform(Tensor out, long seed, long offset) {
        inner.uniform(u(out), seed, offset);
        device.checkOutputs("uniform", new String[] {"out"}, out);
    }

    @Override
    public void adamw(AdamWDesc d, Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor working) {
        inner.adamw(d, u(param), u(grad), u(m), u(v), u(gradScale), u(working));
        device.checkOutputs("adamw", new String[] {"param", "m", "v", "working"}, param, m, v, working);
    }

    @Override
    public void clipFactor(Tensor sumSquares, double maxNorm, Tensor norm, Tensor factor) {
        inner.clipFactor(u(sumSquares), maxNorm, u(norm), u(factor));
        device.checkOutputs("clipFactor", new String[] {"norm", "factor"}, norm, factor);
    }

    @Override
    public void ema(Tensor teacher, Tensor student, double tau, Tensor working) {
        inner.ema(u(teacher), u(student), tau, u(working));
        device.checkOutputs("ema", new String[] {"teacher", "working"}, teacher, working);
    }

    @Override
    public void cast(Tensor src, Tensor dst, boolean accumulate) {
        inner.cast(u(src), u(dst), accumulate);
        device.checkOutputs("cast", new String[] {"dst"}, dst);
    }
}
