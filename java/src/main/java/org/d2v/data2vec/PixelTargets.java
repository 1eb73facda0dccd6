package org.d2v.data2vec;

import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;

/**
 * The MAE-style targets of the pixel ablation: each patch's pixels (row-major within the patch,
 * channels last), normalised to zero mean and unit variance per patch (MAE's norm_pix_loss, eps
 * 1e-6), in the patch order of the patch embedding (row-major over the grid).
 */
final class PixelTargets {
    static final double EPS = 1e-6;

    private PixelTargets() {}

    /** [samples, tokens, patch² · channels] row-major. */
    static double[] of(Batch.Images b, Data2VecConfig cfg) {
        ModalityConfig.Image m = (ModalityConfig.Image) cfg.modality();
        int p = m.patch(), g = m.grid(), c = b.channels(), w = b.width(), per = p * p * c, tokens = g * g;
        double[] out = new double[b.size() * tokens * per];
        for (int n = 0; n < b.size(); n++) {
            for (int t = 0; t < tokens; t++) {
                int base = (n * tokens + t) * per, y0 = t / g * p, x0 = t % g * p;
                for (int py = 0; py < p; py++) {
                    for (int px = 0; px < p; px++) {
                        for (int ch = 0; ch < c; ch++) {
                            out[base + (py * p + px) * c + ch] = b.pixels()[((n * b.height() + y0 + py) * w + x0 + px) * c + ch];
                        }
                    }
                }
                double mean = 0, var = 0;
                for (int k = 0; k < per; k++) mean += out[base + k];
                mean /= per;
                for (int k = 0; k < per; k++) var += (out[base + k] - mean) * (out[base + k] - mean);
                double inv = 1 / Math.sqrt(var / per + EPS);
                for (int k = 0; k < per; k++) out[base + k] = (out[base + k] - mean) * inv;
            }
        }
        return out;
    }
}
