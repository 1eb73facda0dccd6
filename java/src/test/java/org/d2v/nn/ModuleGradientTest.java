package org.d2v.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.d2v.autograd.F;
import org.d2v.autograd.TapeCheck;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.testing.GradCheck;
import org.d2v.testing.Rand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Finite-difference checks (float64) of every module with respect to its input and every one of
 * its parameters, the parameters being views into the store's flat buffers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModuleGradientTest {
    private ReferenceDevice dev;
    private Rand rand;
    private Scope scope;
    private TapeCheck c;

    @BeforeAll void open() { dev = new ReferenceDevice(DType.F64); }

    @AfterAll void close() { dev.close(); }

    @BeforeEach
    void begin() {
        rand = new Rand(5);
        scope = Scope.open();
        c = new TapeCheck(dev, rand);
    }

    @AfterEach void end() { scope.close(); }

    /** Builds the store (closed by the test's scope) and registers every parameter as a leaf. */
    private ParameterStore build(ParameterStore.Builder b) {
        ParameterStore store = b.build(dev, DType.F64, 3);
        stores.add(store);
        // Small BERT weights make gradients tiny; spread them so every path is exercised.
        store.values().copyFrom(rand.uniform((int) store.length(), -0.8, 0.8));
        for (Parameter p : store.parameters()) c.wrt(p.name(), p.tensor());
        return store;
    }

    private final List<ParameterStore> stores = new ArrayList<>();

    @AfterEach
    void closeStores() {
        stores.forEach(ParameterStore::close);
        stores.clear();
    }

    private double run(Supplier<Tensor[]> f) {
        double err = c.check(f);
        assertTrue(err <= GradCheck.TOLERANCE);
        return err;
    }

    @Test
    void linear() {
        ParameterStore.Builder b = ParameterStore.builder();
        Linear lin = new Linear(b.child("fc"), 5, 3, true);
        build(b);
        Tensor x = c.leaf("x", 2, 4, 5);
        run(() -> new Tensor[] {lin.forward(x), lin.forwardGelu(x)});
    }

    @Test
    void layerNorm() {
        ParameterStore.Builder b = ParameterStore.builder();
        LayerNorm ln = new LayerNorm(b.child("ln"), 6, 1e-5, true);
        LayerNorm plain = new LayerNorm(b.child("plain"), 6, 1e-6, false);
        build(b);
        Tensor x = c.leaf("x", 3, 6);
        run(() -> new Tensor[] {ln.forward(x), plain.forward(F.scale(x, 3))});
    }

    @Test
    void attentionWithAlibiAndPadding() {
        int batch = 2, tokens = 5, dim = 8, heads = 2;
        ParameterStore.Builder b = ParameterStore.builder();
        MultiHeadAttention attn = new MultiHeadAttention(b.child("attn"), dim, heads, 0.1);
        Parameter alibiScale = b.declare("alibi_scale", Shape.of(heads), Init.constant(1));
        build(b);
        dev.ops().copy(Tensor.of(dev, DType.F64, Shape.of(heads), new double[] {0.6, 1.4}), alibiScale.tensor());
        Tensor slopes = Tensor.of(dev, DType.F64, Shape.of(heads), AttentionBias.slopes(heads));
        Tensor pos = Tensor.ofInts(dev, Shape.of(batch, tokens), new int[] {0, 1, 2, 3, 4, 0, 2, 4, 6, 8});
        Tensor pad = Tensor.ofInts(dev, Shape.of(batch, tokens), new int[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1});
        AttentionBias bias = new AttentionBias(slopes, alibiScale.tensor(), pos, pad);
        Tensor x = c.leaf("x", batch, tokens, dim);
        run(() -> {
            attn.train(new RandomStream(9)); // dropout on, the same mask every run
            return new Tensor[] {attn.forward(x, bias)};
        });
    }

    @Test
    void postLnBlockAndItsFfnOutput() { block(false); }

    @Test
    void preLnBlockAndItsFfnOutput() { block(true); }

    private void block(boolean preLN) {
        ParameterStore.Builder b = ParameterStore.builder();
        TransformerBlock blk = new TransformerBlock(b.child("blk"), 8, 2, 2, 1e-5, preLN,
                new TransformerBlock.Dropouts(0.1, 0.1, 0.1, 0.1));
        build(b);
        Tensor x = c.leaf("x", 2, 3, 8);
        run(() -> {
            blk.train(new RandomStream(4));
            TransformerBlock.Output o = blk.forward(x, AttentionBias.NONE);
            return new Tensor[] {o.x(), F.scale(o.ffn(), 0.5)};
        });
    }

    @Test
    void conv1d() {
        ParameterStore.Builder b = ParameterStore.builder();
        Conv1d conv = new Conv1d(b.child("conv"), 4, 6, 3, 2, 1, 2, true);
        build(b);
        Tensor x = c.leaf("x", 2, 7, 4);
        run(() -> new Tensor[] {conv.forward(x)});
    }

    @Test
    void groupedStridedConv2d() {
        ParameterStore.Builder b = ParameterStore.builder();
        Conv2d conv = new Conv2d(b.child("conv"), 4, 6, 3, 2, 1, 2, true);
        build(b);
        Tensor x = c.leaf("x", 1, 5, 4, 4);
        run(() -> new Tensor[] {conv.forward(x)});
    }

    @Test
    void embedding() {
        ParameterStore.Builder b = ParameterStore.builder();
        Embedding emb = new Embedding(b.child("emb"), 6, 4, 1);
        build(b);
        Tensor ids = Tensor.ofInts(dev, Shape.of(2, 3), new int[] {5, 1, 0, 5, 3, 2});
        run(() -> new Tensor[] {emb.forward(ids)});
    }

    @Test
    void mlp() {
        ParameterStore.Builder b = ParameterStore.builder();
        MLP mlp = new MLP(b.child("mlp"), 4, 7, 3, 0.2);
        build(b);
        Tensor x = c.leaf("x", 5, 4);
        run(() -> {
            mlp.train(new RandomStream(2));
            return new Tensor[] {mlp.forward(x)};
        });
    }
}
