package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.data2vec.mask.RandomMasker;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Decoder input assembly, the masked regression and the CLS loss, against hand computations. */
class ObjectiveTest {
    private final Device dev = new ReferenceDevice(DType.F64);

    @Test
    void decoderInputKeepsTokensInPlaceAndFillsMaskedSlotsWithSmallNoise() {
        int rows = 4, tokens = 50, dim = 64;
        MaskBatch masks = new RandomMasker(0.5).sample(rows, tokens, new RandomStream(1));
        int kept = masks.kept();
        Random r = new Random(2);
        double[] k = new double[rows * kept * dim];
        for (int i = 0; i < k.length; i++) k[i] = 1 + r.nextDouble();
        try (Scope s = Scope.open()) {
            Tensor keep = Tensor.ofInts(dev, Shape.of(rows, kept), masks.keepIndices());
            double[] x = Objective.decoderInput(Tensor.of(dev, DType.F64, Shape.of(rows, kept, dim), k), keep, tokens, new RandomStream(3)).toDoubles();
            int[] keepIdx = masks.keepIndices();
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < kept; j++) {
                    int t = keepIdx[row * kept + j];
                    for (int d = 0; d < dim; d++) {
                        assertEquals(k[(row * kept + j) * dim + d], x[(row * tokens + t) * dim + d], 0.0, "kept token in place");
                    }
                }
            }
            double sum = 0, sq = 0;
            int n = 0;
            for (int row = 0; row < rows; row++) {
                for (int t = 0; t < tokens; t++) {
                    if (masks.mask()[row * tokens + t] == 0) continue;
                    for (int d = 0; d < dim; d++) {
                        double v = x[(row * tokens + t) * dim + d];
                        sum += v;
                        sq += v * v;
                        n++;
                    }
                }
            }
            double mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
            assertEquals(rows * masks.masked() * dim, n);
            assertTrue(Math.abs(mean) < 0.001, "noise mean " + mean);
            assertEquals(0.01, std, 0.0005, "noise std over " + n + " values");
        }
    }

    @Test
    void regressionIsScaledSumOverMaskedPositionsPerMaskedToken() {
        int samples = 2, clones = 2, rows = samples * clones, tokens = 3, dim = 2;
        int[] mask = {1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1};
        MaskBatch masks = new MaskBatch(rows, tokens, 2, mask);
        Random r = new Random(4);
        double[] pred = new double[rows * tokens * dim], target = new double[samples * tokens * dim];
        for (int i = 0; i < pred.length; i++) pred[i] = r.nextGaussian();
        for (int i = 0; i < target.length; i++) target[i] = r.nextGaussian();
        double scale = 0.5, expected = 0;
        for (int row = 0; row < rows; row++) {
            for (int t = 0; t < tokens; t++) {
                if (mask[row * tokens + t] == 0) continue;
                for (int d = 0; d < dim; d++) {
                    double e = pred[(row * tokens + t) * dim + d] - target[((row / clones) * tokens + t) * dim + d];
                    expected += scale * e * e;
                }
            }
        }
        expected /= rows * 2;
        try (Scope s = Scope.open()) {
            Tensor loss = Objective.regression(Tensor.of(dev, DType.F64, Shape.of(rows, tokens, dim), pred),
                    Tensor.of(dev, DType.F64, Shape.of(samples, tokens, dim), target),
                    Tensor.ofInts(dev, Shape.of(rows, tokens), masks.mask()), clones, (double) rows * masks.masked(), scale);
            assertEquals(expected, loss.item(), 1e-12);
        }
    }

    @Test
    void clsLossRegressesTheClsOutputOntoTheMeanTargetSummedOverRows() {
        int samples = 2, clones = 3, rows = samples * clones, kept = 2, tokens = 4, dim = 3;
        Random r = new Random(5);
        double[] enc = new double[rows * (1 + kept) * dim], target = new double[samples * tokens * dim];
        for (int i = 0; i < enc.length; i++) enc[i] = r.nextGaussian();
        for (int i = 0; i < target.length; i++) target[i] = r.nextGaussian();
        double w = 0.01 / Math.sqrt(dim), expected = 0;
        for (int row = 0; row < rows; row++) {
            for (int d = 0; d < dim; d++) {
                double mean = 0;
                for (int t = 0; t < tokens; t++) mean += target[((row / clones) * tokens + t) * dim + d] / tokens;
                double e = enc[row * (1 + kept) * dim + d] - mean;
                expected += w * e * e;
            }
        }
        try (Scope s = Scope.open()) {
            Tensor loss = Objective.cls(Tensor.of(dev, DType.F64, Shape.of(rows, 1 + kept, dim), enc),
                    Tensor.of(dev, DType.F64, Shape.of(samples, tokens, dim), target), clones, w, 1.0);
            assertEquals(expected, loss.item(), 1e-12);
            Tensor part = Objective.cls(Tensor.of(dev, DType.F64, Shape.of(rows, 1 + kept, dim), enc),
                    Tensor.of(dev, DType.F64, Shape.of(samples, tokens, dim), target), clones, w, 4.0);
            assertEquals(expected / 4, part.item(), 1e-12, "a batch that is part of one 4 device batches large");
        }
    }
}
