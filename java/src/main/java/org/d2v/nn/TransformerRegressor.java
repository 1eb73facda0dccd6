package org.d2v.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.d2v.autograd.F;
import org.d2v.backend.LossDesc;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * A small Transformer that maps a sequence of feature vectors to a sequence of targets:
 * input Linear, learned position table, a stack of {@link TransformerBlock}s, output Linear,
 * trained with the (fully masked) regression loss of data2vec. The demo and the overfitting test
 * use it to exercise the whole training path.
 */
public final class TransformerRegressor extends Module {
    /** Sizes and options. */
    public record Config(int inDim, int dim, int heads, int depth, int tokens, int outDim, double dropout, boolean preLN) {
        public Config {
            if (inDim < 1 || dim < 1 || heads < 1 || depth < 1 || tokens < 1 || outDim < 1) {
                throw new IllegalArgumentException("regressor sizes must be ≥ 1: " + this);
            }
        }
    }

    private final Config config;
    private final Linear input;
    private final Parameter positions;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm finalNorm;
    private final Linear head;

    public TransformerRegressor(ParameterStore.Builder b, Config c) {
        this.config = c;
        this.input = child("input", new Linear(b.child("input"), c.inDim(), c.dim(), true));
        this.positions = b.declare("positions", Shape.of(c.tokens(), c.dim()), Init.normal(0.02));
        TransformerBlock.Dropouts drop = new TransformerBlock.Dropouts(c.dropout(), c.dropout(), 0, c.dropout());
        ParameterStore.Builder bb = b.child("blocks").tracked(true);
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new TransformerBlock(bb.child(Integer.toString(i)), c.dim(), c.heads(), 4, 1e-5, c.preLN(), drop)));
        }
        // Pre-LN stacks end with a LayerNorm (docs/algorithm.md §2); post-LN ones already end normalised.
        this.finalNorm = c.preLN() ? child("norm", new LayerNorm(b.child("norm"), c.dim(), 1e-5, true)) : null;
        this.head = child("head", new Linear(b.child("head"), c.dim(), c.outDim(), true));
    }

    /** x [batch, tokens, inDim] → [batch, tokens, outDim]. */
    public Tensor forward(Tensor x) {
        if (x.shape().rank() != 3 || x.dim(1) != config.tokens() || x.dim(2) != config.inDim()) {
            throw new IllegalArgumentException("regressor wants [batch, " + config.tokens() + ", " + config.inDim() + "], got " + x.shape());
        }
        Tensor h = F.addBroadcast(input.forward(x), positions.tensor());
        for (TransformerBlock blk : blocks) h = blk.forward(h, AttentionBias.NONE).x();
        if (finalNorm != null) h = finalNorm.forward(h);
        return head.forward(h);
    }

    /** Mean squared error over every token and output dimension, shape [1]. */
    public Tensor loss(Tensor x, Tensor target) {
        Tensor pred = forward(x);
        int batch = x.dim(0), tokens = config.tokens(), out = config.outDim();
        int[] all = new int[batch * tokens];
        Arrays.fill(all, 1);
        Tensor mask = Tensor.ofInts(x.device(), Shape.of(batch, tokens), all);
        return F.maskedRegression(new LossDesc(batch, tokens, out, 1, 1.0, (double) batch * tokens * out), pred, target, mask);
    }

    public Config config() { return config; }
}
