package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** fairseq's compute_var at the masked positions, and when the guards fire. */
class CollapseGuardTest {
    @Test
    void maskedStdIsTheMeanPerChannelUnbiasedStd() {
        Device dev = new ReferenceDevice(DType.F64);
        int rows = 3, tokens = 5, dim = 4, masked = 2;
        int[] idx = {0, 3, 1, 2, 4, 0};
        Random r = new Random(8);
        double[] x = new double[rows * tokens * dim];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian() * (1 + i % dim);
        double expected = 0;
        int n = rows * masked;
        for (int d = 0; d < dim; d++) {
            double mean = 0, ss = 0;
            for (int row = 0; row < rows; row++) for (int k = 0; k < masked; k++) mean += x[(row * tokens + idx[row * masked + k]) * dim + d] / n;
            for (int row = 0; row < rows; row++) {
                for (int k = 0; k < masked; k++) {
                    double e = x[(row * tokens + idx[row * masked + k]) * dim + d] - mean;
                    ss += e * e;
                }
            }
            expected += Math.sqrt(ss / (n - 1) + 1e-6) / dim;
        }
        try (Scope s = Scope.open()) {
            Tensor got = Tensor.empty(dev, DType.F64, Shape.of(1));
            CollapseGuard.maskedStd(Tensor.of(dev, DType.F64, Shape.of(rows, tokens, dim), x),
                    Tensor.ofInts(dev, Shape.of(rows, masked), idx), got);
            assertEquals(expected, got.item(), 1e-12);
        }
    }

    @Test
    void guardsFireOnlyAfterTheirStep() {
        LossConfig c = new LossConfig(1, true, false, 1, 0, 0.1, 0.01, 5000);
        assertDoesNotThrow(() -> CollapseGuard.check(c, 5000, 0.0, 0.0));
        var e = assertThrows(IllegalStateException.class, () -> CollapseGuard.check(c, 5001, 0.05, 0.5));
        assertTrue(e.getMessage().contains("target std 0.05") && e.getMessage().contains("0.1"), e.getMessage());
        var p = assertThrows(IllegalStateException.class, () -> CollapseGuard.check(c, 5001, 0.5, 0.005));
        assertTrue(p.getMessage().contains("prediction std 0.005"), p.getMessage());
        assertDoesNotThrow(() -> CollapseGuard.check(new LossConfig(1, true, false, 1, 0, 0, 0, 0), 9999, 0.0, 0.0), "0 disables a guard");
    }
}
