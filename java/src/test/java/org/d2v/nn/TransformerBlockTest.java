package org.d2v.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Arrays;
import org.d2v.autograd.F;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.testing.Rand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The block computes exactly docs/algorithm.md §2's formulas, and dropout follows train/eval mode. */
class TransformerBlockTest {
    private ReferenceDevice dev;
    private Scope scope;
    private final Rand rand = new Rand(3);

    @BeforeEach
    void open() {
        dev = new ReferenceDevice(DType.F64);
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
        dev.close();
    }

    private Tensor p(ParameterStore s, String name) { return s.get(name); }

    private Tensor linear(ParameterStore s, String prefix, Tensor x) { return F.linear(x, p(s, prefix + ".weight"), p(s, prefix + ".bias")); }

    private Tensor ln(ParameterStore s, String prefix, Tensor x) { return F.layerNorm(x, p(s, prefix + ".weight"), p(s, prefix + ".bias"), 1e-6); }

    private Tensor attn(ParameterStore s, Tensor x) {
        Tensor qkv = linear(s, "b.attn.qkv", x);
        Tensor ctx = F.attention(AttentionDesc.of(2, 3, 2, 4), qkv, null, null, null, null, null);
        return linear(s, "b.attn.proj", ctx);
    }

    private Tensor mlp(ParameterStore s, Tensor r) {
        return linear(s, "b.mlp.fc2", F.gelu(linear(s, "b.mlp.fc1", r)));
    }

    @Test
    void postLnIsSpecSection2() {
        ParameterStore.Builder b = ParameterStore.builder();
        TransformerBlock blk = new TransformerBlock(b.child("b"), 8, 2, 4, 1e-6, false, TransformerBlock.Dropouts.NONE);
        try (ParameterStore s = b.build(dev, DType.F64, 1)) {
            s.values().copyFrom(rand.uniform((int) s.length(), -0.5, 0.5));
            Tensor x = Tensor.of(dev, DType.F64, Shape.of(2, 3, 8), rand.uniform(48, -1, 1));
            TransformerBlock.Output o = blk.forward(x, AttentionBias.NONE);
            Tensor h = F.add(x, attn(s, x));
            Tensor r = ln(s, "b.norm1", h);
            Tensor a = mlp(s, r);
            Tensor out = ln(s, "b.norm2", F.add(r, a));
            assertArrayEquals(a.toDoubles(), o.ffn().toDoubles(), 1e-12, "the FFN output a");
            assertArrayEquals(out.toDoubles(), o.x().toDoubles(), 1e-12, "x' = LN2(r + a)");
        }
    }

    @Test
    void preLnNormalisesBeforeEachSublayer() {
        ParameterStore.Builder b = ParameterStore.builder();
        TransformerBlock blk = new TransformerBlock(b.child("b"), 8, 2, 4, 1e-6, true, TransformerBlock.Dropouts.NONE);
        try (ParameterStore s = b.build(dev, DType.F64, 1)) {
            s.values().copyFrom(rand.uniform((int) s.length(), -0.5, 0.5));
            Tensor x = Tensor.of(dev, DType.F64, Shape.of(2, 3, 8), rand.uniform(48, -1, 1));
            TransformerBlock.Output o = blk.forward(x, AttentionBias.NONE);
            Tensor h = F.add(x, attn(s, ln(s, "b.norm1", x)));
            Tensor a = mlp(s, ln(s, "b.norm2", h));
            assertArrayEquals(a.toDoubles(), o.ffn().toDoubles(), 1e-12);
            assertArrayEquals(F.add(h, a).toDoubles(), o.x().toDoubles(), 1e-12);
        }
    }

    @Test
    void dropoutOnlyInTrainMode() {
        ParameterStore.Builder b = ParameterStore.builder();
        TransformerBlock blk = new TransformerBlock(b.child("b"), 8, 2, 4, 1e-6, false, new TransformerBlock.Dropouts(0.2, 0.2, 0.2, 0.2));
        try (ParameterStore s = b.build(dev, DType.F64, 1)) {
            Tensor x = Tensor.of(dev, DType.F64, Shape.of(2, 3, 8), rand.uniform(48, -1, 1));
            blk.eval();
            double[] e1 = blk.forward(x, AttentionBias.NONE).x().toDoubles();
            double[] e2 = blk.forward(x, AttentionBias.NONE).x().toDoubles();
            assertArrayEquals(e1, e2, 0, "eval is deterministic");
            RandomStream rng = new RandomStream(5);
            blk.train(rng);
            double[] t1 = blk.forward(x, AttentionBias.NONE).x().toDoubles();
            double[] t2 = blk.forward(x, AttentionBias.NONE).x().toDoubles();
            assertFalse(Arrays.equals(t1, e1), "train mode drops");
            assertFalse(Arrays.equals(t1, t2), "each call draws fresh masks from the stream");
            blk.train(new RandomStream(5));
            assertArrayEquals(t1, blk.forward(x, AttentionBias.NONE).x().toDoubles(), 0, "the same stream gives the same masks");
            assertSame(blk.attention(), blk.children().get("attn"));
        }
    }
}
