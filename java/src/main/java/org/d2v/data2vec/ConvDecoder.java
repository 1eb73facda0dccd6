package org.d2v.data2vec;

import java.util.ArrayList;
import java.util.List;
import org.d2v.autograd.F;
import org.d2v.data2vec.config.DecoderConfig;
import org.d2v.nn.Conv1d;
import org.d2v.nn.Conv2d;
import org.d2v.nn.Linear;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Tensor;

/**
 * The conv decoder of docs/algorithm.md §6 on the full-length sequence [rows, T, D]: each layer is conv
 * (same padding, grouped) → non-affine LN → GELU, plus the previous output when residuals are on
 * and the channel counts match; then the projection back to D (or to a patch's pixels, for the
 * MAE-style ablation). 2-D (image: a gridH×gridW
 * layout, 3×3 kernels) or 1-D (audio, text). No positions: the conv gives the layout.
 */
final class ConvDecoder extends Module {
    private static final double LN_EPS = 1e-5;

    private final DecoderConfig cfg;
    private final int gridH, gridW;
    private final List<Module> layers = new ArrayList<>();
    private final Linear proj;
    private final Linear proj2;

    /**
     * @param outputDim what the projection predicts per position: the model dim (teacher targets) or a patch's pixel count
     * @param grid2d true for the image decoder over gridH×gridW positions
     * @param bertProjection keep BERT's N(0, 0.02) init for the projection (text); otherwise
     *                       PyTorch's default, as image and audio reset it (docs/algorithm.md §2)
     */
    ConvDecoder(ParameterStore.Builder b, DecoderConfig cfg, int inputDim, int outputDim, boolean grid2d, int gridH, int gridW, boolean bertProjection) {
        this.cfg = cfg;
        this.gridH = grid2d ? gridH : 1;
        this.gridW = grid2d ? gridW : 0;
        int k = cfg.kernel();
        for (int i = 0; i < cfg.layers(); i++) {
            int in = i == 0 ? inputDim : cfg.dim();
            ParameterStore.Builder lb = b.child("layers").child(Integer.toString(i));
            Module conv = grid2d
                    ? new Conv2d(lb, in, cfg.dim(), k, 1, k / 2, cfg.groups(), true)
                    : new Conv1d(lb, in, cfg.dim(), k, 1, k / 2, cfg.groups(), true);
            layers.add(child("layers." + i, conv));
        }
        if (cfg.projectionLayers() == 1) {
            proj = child("proj", bertProjection ? new Linear(b.child("proj"), cfg.dim(), outputDim, true)
                    : Linear.pytorchDefault(b.child("proj"), cfg.dim(), outputDim, true));
            proj2 = null;
        } else {
            int hidden = (int) Math.round(cfg.dim() * cfg.projectionRatio());
            ParameterStore.Builder pb = b.child("proj");
            proj = child("proj.0", bertProjection ? new Linear(pb.child("0"), cfg.dim(), hidden, true)
                    : Linear.pytorchDefault(pb.child("0"), cfg.dim(), hidden, true));
            proj2 = child("proj.2", bertProjection ? new Linear(pb.child("2"), hidden, outputDim, true)
                    : Linear.pytorchDefault(pb.child("2"), hidden, outputDim, true));
        }
    }

    /** Dropout on the encoder output before it is put back in place (docs/algorithm.md §6 input_dropout). */
    Tensor inputDropout(Tensor x) { return dropout(x, cfg.inputDropout()); }

    /** x [rows, T, inputDim] (T = gridH·gridW for 2-D) → [rows, T, outputDim]. */
    Tensor forward(Tensor x) {
        int rows = x.dim(0), tokens = x.dim(1);
        Tensor residual = x;
        Tensor h = x;
        for (Module layer : layers) {
            Tensor y;
            if (layer instanceof Conv2d c) {
                if (tokens != gridH * gridW) throw new IllegalArgumentException("2-D decoder wants " + gridH * gridW + " tokens, got " + tokens);
                y = c.forward(Views.reshape(h, rows, gridH, gridW, h.dim(2)));
            } else {
                y = ((Conv1d) layer).forward(h);
            }
            y = Views.reshape(F.gelu(F.layerNorm(y, null, null, LN_EPS)), rows, tokens, cfg.dim());
            if (cfg.residual() && residual.dim(2) == cfg.dim()) y = F.add(y, residual);
            residual = y;
            h = y;
        }
        return proj2 == null ? proj.forward(h) : proj2.forward(proj.forwardGelu(h));
    }
}
