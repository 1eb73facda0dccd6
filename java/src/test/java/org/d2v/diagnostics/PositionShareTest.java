package org.d2v.diagnostics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PositionShareTest {
    @Test
    void aPurelyPositionalSignalHasShareOneAndNoiseHasTheChanceShare() {
        int b = 50, t = 20, d = 8;
        Random r = new Random(2);
        double[] pos = new double[t * d];
        for (int i = 0; i < pos.length; i++) pos[i] = r.nextGaussian();
        double[] positional = new double[b * t * d], noise = new double[b * t * d];
        for (int s = 0; s < b; s++) {
            for (int p = 0; p < t; p++) {
                for (int c = 0; c < d; c++) {
                    positional[(s * t + p) * d + c] = pos[p * d + c] + 3;
                    noise[(s * t + p) * d + c] = r.nextGaussian();
                }
            }
        }
        assertEquals(1, PositionShare.of(positional, b, t, d), 1e-12);
        assertEquals(PositionShare.chance(b, t), PositionShare.of(noise, b, t, d), 0.01);
    }
}
