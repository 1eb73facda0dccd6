package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Targets = LN(mean over the top K blocks of InstanceNorm_t(FFN output without CLS)), by hand. */
class TargetsTest {
    static final int B = 2, EXTRA = 1, T = 3, D = 4, LAYERS = 3, K = 2;

    @Test void imageTargetsMatchHandComputation() { check(true); }

    @Test void audioTextTargetsHaveNoFinalLayerNorm() { check(false); }

    @Test
    void skippedBlockIsRejected() {
        Device dev = new ReferenceDevice(DType.F64);
        try (Scope s = Scope.open()) {
            List<Tensor> ffn = new ArrayList<>();
            ffn.add(Tensor.zeros(dev, DType.F64, B, T, D));
            ffn.add(null);
            assertThrows(IllegalStateException.class, () -> Targets.build(ffn, 0, new LossConfig(2, true, false, 1, 0, 0, 0, 0)));
        }
    }

    private static void check(boolean layerNorm) {
        Device dev = new ReferenceDevice(DType.F64);
        Random r = new Random(3);
        double[][] acts = new double[LAYERS][B * (EXTRA + T) * D];
        for (double[] a : acts) for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian() * (1 + i % 3) + i % 5;
        try (Scope s = Scope.open()) {
            List<Tensor> ffn = new ArrayList<>();
            for (double[] a : acts) ffn.add(Tensor.of(dev, DType.F64, Shape.of(B, EXTRA + T, D), a));
            Tensor y = Targets.build(ffn, EXTRA, new LossConfig(K, true, layerNorm, Double.NaN, 0, 0, 0, 0));
            assertArrayEquals(expected(acts, layerNorm), y.toDoubles(), 1e-10);
        }
    }

    private static double[] expected(double[][] acts, boolean layerNorm) {
        double eps = 1e-5;
        double[] out = new double[B * T * D];
        for (int l = LAYERS - K; l < LAYERS; l++) {
            for (int b = 0; b < B; b++) {
                for (int d = 0; d < D; d++) {
                    double mean = 0, var = 0;
                    for (int t = 0; t < T; t++) mean += acts[l][(b * (EXTRA + T) + EXTRA + t) * D + d] / T;
                    for (int t = 0; t < T; t++) {
                        double x = acts[l][(b * (EXTRA + T) + EXTRA + t) * D + d] - mean;
                        var += x * x / T;
                    }
                    for (int t = 0; t < T; t++) {
                        double x = acts[l][(b * (EXTRA + T) + EXTRA + t) * D + d];
                        out[(b * T + t) * D + d] += (x - mean) / Math.sqrt(var + eps) / K;
                    }
                }
            }
        }
        if (layerNorm) {
            for (int row = 0; row < B * T; row++) {
                double mean = 0, var = 0;
                for (int d = 0; d < D; d++) mean += out[row * D + d] / D;
                for (int d = 0; d < D; d++) var += (out[row * D + d] - mean) * (out[row * D + d] - mean) / D;
                for (int d = 0; d < D; d++) out[row * D + d] = (out[row * D + d] - mean) / Math.sqrt(var + eps);
            }
        }
        return out;
    }
}
