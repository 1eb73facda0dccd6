package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.LabeledImages;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReconstructionFigureTest {
    @TempDir Path tmp;

    /** Two samples × 2 clones, 3 tokens, width 2; tokens 0 and 2 of clone 0 masked. */
    private static Data2Vec.Reconstruction rec(double[] prediction) {
        double[] target = {1, 2, 3, 4, 5, 7, -1, 0, 2, 2, 0, 1};
        int[] mask = {1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0};
        return new Data2Vec.Reconstruction(4, 3, 2, prediction, target, mask);
    }

    @Test
    void fitIsOneForAPerfectPredictionAndMeasuresOnlyMaskedPositionsOfTheFirstClone() {
        double[] perfect = new double[4 * 3 * 2];
        double[] target = rec(perfect).target();
        // Clone 0 of sample i is row 2i; rows 1 and 3 (second clones) hold garbage that must not count.
        for (int i = 0; i < 2; i++) System.arraycopy(target, i * 6, perfect, 2 * i * 6, 6);
        for (int k = 6; k < 12; k++) perfect[k] = 1e6;
        ReconstructionFigure.Fit f = ReconstructionFigure.fit(rec(perfect), 2);
        assertEquals(1, f.r2(), 1e-12);
        assertEquals(1, f.cosine(), 1e-12);
        assertEquals(4, f.positions());
        // Predicting the mean masked target everywhere explains nothing: R² = 0.
        double[] mean = new double[24];
        for (int k = 0; k < 24; k += 2) {
            mean[k] = (1 + 5 - 1 + 0) / 4.0;
            mean[k + 1] = (2 + 7 + 0 + 1) / 4.0;
        }
        assertEquals(0, ReconstructionFigure.fit(rec(mean), 2).r2(), 1e-12);
    }

    @Test
    void firstComponentFindsTheDirectionOfLargestSpread() {
        int n = 200, w = 3;
        double[] x = new double[n * w], mu = new double[w];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < n; i++) {
            double t = r.nextGaussian() * 5, e = r.nextGaussian() * 0.1;
            x[i * w] = t * 0.6;
            x[i * w + 1] = t * 0.8;
            x[i * w + 2] = e;
        }
        double[] v = ReconstructionFigure.firstComponent(x, n, w, mu);
        assertEquals(1, Math.abs(v[0] * 0.6 + v[1] * 0.8), 1e-3);
    }

    @Test
    void figureOfARandomModelIsWrittenWithItsFit() throws Exception {
        LabeledImages imgs = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        Data2VecConfig cfg = Presets.imageMicro();
        try (Device d = Backends.open("reference"); Data2Vec m = new Data2Vec(d, cfg)) {
            FeatureModel model = new Data2VecFeatures(m);
            Path out = tmp.resolve(ReconstructionFigure.FILE);
            ReconstructionFigure.Fit f = ReconstructionFigure.write(out, model, cfg, imgs.images(), 2, 3, 1);
            assertNotNull(ImageIO.read(out.toFile()));
            assertTrue(Double.isFinite(f.r2()) && f.positions() == 3 * m.masker().sample(1, 16, new org.d2v.backend.RandomStream(1)).masked(), f.toString());
            ReconstructionFigure.Fit again = ReconstructionFigure.measure(model, cfg, imgs.images(), 3, 1);
            assertEquals(f.r2(), again.r2(), 1e-12, "the fit is over all measured images, not only the drawn ones");
        }
    }
}
