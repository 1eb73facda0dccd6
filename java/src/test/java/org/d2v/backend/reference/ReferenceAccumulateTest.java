package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.function.Consumer;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.testing.Approx;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The accumulate contract of Ops: without the flag an op overwrites every element of its output
 * (old contents, even NaN, do not matter); with it, the op adds exactly what it would have written.
 * Parameter-gradient outputs always add.
 */
class ReferenceAccumulateTest extends ReferenceTestBase {

    /** op(false) on a NaN-poisoned out gives r; op(true) on out = c gives c + r. */
    private void assertOverwritesThenAdds(String name, Tensor out, Consumer<Boolean> op) {
        ops.fill(out, Double.NaN);
        op.accept(false);
        double[] r = out.toDoubles();
        for (double v : r) assertFalse(Double.isNaN(v), name + " left an element unwritten");
        assertAdds(name, out, r, () -> op.accept(true));
    }

    /** out = c, then run: out must become c + r. */
    private void assertAdds(String name, Tensor out, double[] r, Runnable run) {
        double[] c = rand.uniform((int) out.numel(), -1, 1);
        out.copyFrom(c);
        run.run();
        double[] expected = new double[c.length];
        for (int i = 0; i < c.length; i++) expected[i] = c[i] + r[i];
        Approx.assertClose(expected, out.toDoubles(), 1e-14, name + " with accumulate");
    }

    /** For always-accumulating outputs: r from a zeroed out, then c + r from out = c. */
    private void assertAlwaysAdds(String name, Tensor out, Runnable run) {
        ops.fill(out, 0);
        run.run();
        assertAdds(name, out, out.toDoubles(), run);
    }

    @Test
    void elementwiseAndReductions() {
        Tensor a = random(3, 4), b = random(3, 4);
        Tensor out = zeros(3, 4);
        assertOverwritesThenAdds("mul", out, acc -> ops.mul(a, b, out, acc));
        Tensor red = zeros(3, 2), x = random(3, 2, 2);
        assertOverwritesThenAdds("reduceMiddle", red, acc -> ops.reduceMiddle(3, 2, 2, 0.5, x, red, acc));
        Tensor big = zeros(3, 2, 2);
        assertOverwritesThenAdds("broadcastMiddle", big, acc -> ops.broadcastMiddle(3, 2, 2, 0.5, red, big, acc));
        Tensor s = zeros(1);
        assertOverwritesThenAdds("sumSquares", s, acc -> ops.sumSquares(a, s, acc));
        Tensor dx = zeros(3, 4);
        assertOverwritesThenAdds("geluBackward", dx, acc -> ops.geluBackward(a, b, dx, acc));
        assertOverwritesThenAdds("dropoutBackward", dx, acc -> ops.dropoutBackward(a, dx, 0.5, 1, 2, acc));
    }

    @Test
    void matmul() {
        Tensor a = random(2, 5, 3), b = random(3, 4), bias = random(4), c = zeros(2, 5, 4);
        MatmulDesc d = MatmulDesc.of(5, 4, 3).withBatch(2, true);
        assertOverwritesThenAdds("matmul", c, acc -> ops.matmul(d, a, b, bias, c, null, acc));
    }

    @Test
    void norms() {
        NormDesc d = new NormDesc(4, 5, 1e-5);
        Tensor x = random(4, 5), gamma = random(5), y = zeros(4, 5), mean = zeros(4), rstd = zeros(4), dy = random(4, 5);
        ops.layerNorm(d, x, gamma, null, y, mean, rstd);
        Tensor dx = zeros(4, 5), dgamma = zeros(5), dbeta = zeros(5);
        assertOverwritesThenAdds("layerNormBackward dx", dx,
                acc -> ops.layerNormBackward(d, x, gamma, mean, rstd, dy, dx, null, null, acc));
        assertAlwaysAdds("layerNormBackward dgamma", dgamma,
                () -> ops.layerNormBackward(d, x, gamma, mean, rstd, dy, dx, dgamma, null, false));
        assertAlwaysAdds("layerNormBackward dbeta", dbeta,
                () -> ops.layerNormBackward(d, x, gamma, mean, rstd, dy, dx, null, dbeta, false));
        Tensor xi = random(2, 3, 5), yi = zeros(2, 3, 5), mi = zeros(2, 5), ri = zeros(2, 5), dyi = random(2, 3, 5), dxi = zeros(2, 3, 5);
        ops.instanceNorm(2, 3, 5, 1e-5, xi, yi, mi, ri);
        assertOverwritesThenAdds("instanceNormBackward", dxi, acc -> ops.instanceNormBackward(2, 3, 5, xi, mi, ri, dyi, dxi, acc));
    }

    @Test
    void attention() {
        AttentionDesc d = AttentionDesc.of(2, 3, 2, 2).withAlibi(true).withDropout(0.2, 9, 0);
        Tensor qkv = random(2, 3, 3, 2, 2), slopes = of(new double[] {0.5, 0.25}, 2), scale = of(new double[] {1, 0.5}, 2);
        Tensor pos = ints(new int[] {0, 1, 3, 0, 2, 4}, 2, 3), out = zeros(2, 3, 2, 2), lse = zeros(2, 2, 3);
        ops.attention(d, qkv, slopes, scale, pos, null, out, lse);
        Tensor dout = random(2, 3, 2, 2), delta = zeros(2, 2, 3), dqkv = zeros(2, 3, 3, 2, 2), dScale = zeros(2);
        assertOverwritesThenAdds("attentionBackward dqkv", dqkv,
                acc -> ops.attentionBackward(d, qkv, slopes, scale, pos, null, out, dout, lse, delta, dqkv, dScale, acc));
        assertAlwaysAdds("attentionBackward dAlibiScale", dScale,
                () -> ops.attentionBackward(d, qkv, slopes, scale, pos, null, out, dout, lse, delta, dqkv, dScale, false));
    }

    @Test
    void conv() {
        ConvDesc d = ConvDesc.conv2d(2, 4, 2, 4, 3, 2, 2, 1, 2);
        Tensor x = random(2, 4, 3, 4), w = random(2, 2, 2, 2), dy = random(2, d.outH(), d.outW(), 2);
        Tensor dx = zeros(2, 4, 3, 4), dw = zeros(2, 2, 2, 2), dbias = zeros(2);
        assertOverwritesThenAdds("convBackwardInput", dx, acc -> ops.convBackwardInput(d, dy, w, dx, acc));
        assertAlwaysAdds("convBackwardWeight dw", dw, () -> ops.convBackwardWeight(d, x, dy, dw, null));
        assertAlwaysAdds("convBackwardWeight dbias", dbias, () -> ops.convBackwardWeight(d, x, dy, zeros(2, 2, 2, 2), dbias));
    }

    @Test
    void tokens() {
        Tensor ids = ints(new int[] {1, 1, 0, 3}, 4), dout = random(4, 3), dtable = zeros(5, 3);
        assertAlwaysAdds("embeddingBackward", dtable, () -> ops.embeddingBackward(ids, dout, dtable));
        // scatterRows leaves unnamed rows alone, so its contribution r is what it writes into zeros
        Tensor src = random(2, 2, 3), idx = ints(new int[] {0, 2, 1, 0}, 2, 2), dst = zeros(2, 3, 3);
        ops.scatterRows(src, idx, dst, false);
        assertAdds("scatterRows", dst, dst.toDoubles(), () -> ops.scatterRows(src, idx, dst, true));
        Tensor dx = zeros(2, 3), clones = random(6, 3);
        assertOverwritesThenAdds("sumRepeats", dx, acc -> ops.sumRepeats(clones, 3, dx, acc));
    }
}
