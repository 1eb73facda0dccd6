package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.RandomStream;
import org.d2v.data.image.Images;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.mask.MaskBatch;

/**
 * How well the student predicts its targets at masked positions: a number (R² and cosine over
 * many test images) and reconstruction.png, which shows for a few images the mask, the targets'
 * first principal component on the patch grid, and the decoder's prediction of it at the masked
 * patches (visible patches, where nothing is predicted, in light blue). Target and prediction of
 * one image share a grey scale.
 */
public final class ReconstructionFigure {
    public static final String FILE = "reconstruction.png";
    private static final int POWER_ITERATIONS = 200;

    private ReconstructionFigure() {}

    /**
     * The fit at masked positions of the first clone of each image: R² = 1 − Σ‖p − y‖² / Σ‖y − ȳ‖²
     * (ȳ the mean masked target) and the mean cosine between p and y.
     */
    public record Fit(double r2, double cosine, int positions) {
        @Override
        public String toString() { return String.format(Locale.ROOT, "R² %.3f, cosine %.3f over %d masked patches", r2, cosine, positions); }
    }

    /** One reconstruction of the first {@code n} images with masks drawn from {@code seed}; null if the model has no decoder. */
    static Data2Vec.Reconstruction reconstruct(FeatureModel model, Data2VecConfig cfg, Images images, int n, long seed) {
        ModalityConfig.Image m = (ModalityConfig.Image) cfg.modality();
        float[] px = new float[n * images.imageSize()];
        System.arraycopy(images.pixels(), 0, px, 0, px.length);
        RandomStream rng = new RandomStream(seed);
        MaskBatch masks = model.masker().sample(n * cfg.clones(), m.tokens(), rng);
        return model.reconstruct(new Batch.Images(n, images.height(), images.width(), images.channels(), px), masks, rng);
    }

    public static Fit measure(FeatureModel model, Data2VecConfig cfg, Images images, int n, long seed) {
        Data2Vec.Reconstruction r = reconstruct(model, cfg, images, Math.min(n, images.count()), seed);
        return r == null ? null : fit(r, cfg.clones());
    }

    static Fit fit(Data2Vec.Reconstruction r, int clones) {
        int samples = r.rows() / clones, t = r.tokens(), w = r.width();
        double[] mean = new double[w];
        int count = 0;
        for (int i = 0; i < samples; i++) {
            for (int k = 0; k < t; k++) {
                if (r.mask()[i * clones * t + k] != 1) continue;
                for (int c = 0; c < w; c++) mean[c] += r.target()[(i * t + k) * w + c];
                count++;
            }
        }
        for (int c = 0; c < w; c++) mean[c] /= Math.max(1, count);
        double res = 0, tot = 0, cos = 0;
        for (int i = 0; i < samples; i++) {
            for (int k = 0; k < t; k++) {
                if (r.mask()[i * clones * t + k] != 1) continue;
                double dot = 0, pp = 0, yy = 0;
                for (int c = 0; c < w; c++) {
                    double p = r.prediction()[((i * clones) * t + k) * w + c], y = r.target()[(i * t + k) * w + c];
                    res += (p - y) * (p - y);
                    tot += (y - mean[c]) * (y - mean[c]);
                    dot += p * y;
                    pp += p * p;
                    yy += y * y;
                }
                cos += dot / Math.max(Math.sqrt(pp * yy), 1e-30);
            }
        }
        return new Fit(1 - res / Math.max(tot, 1e-30), cos / Math.max(1, count), count);
    }

    /**
     * One reconstruction of the first {@code measured} images: draws the first {@code drawn} of them
     * (the principal component is that of all measured images' targets) and returns the fit on all
     * measured images, or null without a decoder.
     */
    public static Fit write(Path out, FeatureModel model, Data2VecConfig cfg, Images images, int drawn, int measured, long seed) throws IOException {
        int all = Math.min(Math.max(drawn, measured), images.count()), n = Math.min(drawn, all);
        if (n < 1) return null;
        Data2Vec.Reconstruction r = reconstruct(model, cfg, images, all, seed);
        if (r == null) return null;
        ModalityConfig.Image m = (ModalityConfig.Image) cfg.modality();
        int t = r.tokens(), w = r.width(), clones = cfg.clones(), h = images.height(), wd = images.width(), g = m.grid(), p = m.patch();
        double[] mu = new double[w];
        for (int j = 0; j < all * t; j++) for (int c = 0; c < w; c++) mu[c] += r.target()[j * w + c] / (all * t);
        double[] pc = firstComponent(r.target(), all * t, w, mu);
        List<List<Charts.Tile>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] target = new float[t], pred = new float[t];
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < t; k++) {
                target[k] = (float) project(r.target(), (i * t + k) * w, mu, pc);
                boolean masked = r.mask()[i * clones * t + k] == 1;
                pred[k] = masked ? (float) project(r.prediction(), ((i * clones) * t + k) * w, mu, pc) : Float.NaN;
                lo = Math.min(lo, Math.min(target[k], masked ? pred[k] : target[k]));
                hi = Math.max(hi, Math.max(target[k], masked ? pred[k] : target[k]));
            }
            float[] maskPx = new float[h * wd], targetPx = new float[h * wd], predPx = new float[h * wd];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < wd; x++) {
                    int k = Math.min(y / p, g - 1) * g + Math.min(x / p, g - 1);
                    maskPx[y * wd + x] = r.mask()[i * clones * t + k] == 1 ? 0 : 1;
                    targetPx[y * wd + x] = target[k];
                    predPx[y * wd + x] = pred[k];
                }
            }
            rows.add(List.of(new Charts.Tile(images.image(i), h, wd), new Charts.Tile(maskPx, h, wd),
                    new Charts.Tile(targetPx, h, wd, lo, hi), new Charts.Tile(predPx, h, wd, lo, hi)));
        }
        Fit fit = fit(r, clones);
        Charts.tiles(out, "targets' 1st principal component and its prediction at masked patches (" + all + " images: " + fit + ")",
                List.of("image", "mask (black = masked)", "target PC1", "predicted PC1 (masked)"), rows, 4);
        return fit;
    }

    /** The leading eigenvector of the covariance of {@code rows} vectors of width {@code w} around {@code mu} (power iteration). */
    static double[] firstComponent(double[] x, int rows, int w, double[] mu) {
        double[][] cov = new double[w][w];
        for (int j = 0; j < rows; j++) {
            for (int a = 0; a < w; a++) {
                double da = x[j * w + a] - mu[a];
                for (int b = a; b < w; b++) cov[a][b] += da * (x[j * w + b] - mu[b]);
            }
        }
        for (int a = 0; a < w; a++) for (int b = 0; b < a; b++) cov[a][b] = cov[b][a];
        double[] v = new double[w];
        for (int a = 0; a < w; a++) v[a] = 1.0 / Math.sqrt(w) * (1 + 0.01 * a); // not orthogonal to the answer
        for (int it = 0; it < POWER_ITERATIONS; it++) {
            double[] nv = new double[w];
            for (int a = 0; a < w; a++) for (int b = 0; b < w; b++) nv[a] += cov[a][b] * v[b];
            double norm = 0;
            for (double d : nv) norm += d * d;
            norm = Math.sqrt(norm);
            if (norm < 1e-30) return v;
            for (int a = 0; a < w; a++) v[a] = nv[a] / norm;
        }
        return v;
    }

    private static double project(double[] x, int at, double[] mu, double[] pc) {
        double s = 0;
        for (int c = 0; c < pc.length; c++) s += (x[at + c] - mu[c]) * pc[c];
        return s;
    }
}
