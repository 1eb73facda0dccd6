package org.d2v.diagnostics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ActivationStatsTest {
    @Test
    void variancesOverPositionsAndChannelsByHand() {
        // One sample, 2 positions × 2 channels: [[1, 3], [5, 11]].
        double[] x = {1, 3, 5, 11};
        ActivationStats s = new ActivationStats();
        s.add(x, 1, 2, 2);
        // Over positions: channel 0 {1, 5} var 4, channel 1 {3, 11} var 16 → 10.
        assertEquals(10, s.varianceOverPositions(), 1e-12);
        // Over channels: position 0 {1, 3} var 1, position 1 {5, 11} var 9 → 5.
        assertEquals(5, s.varianceOverChannels(), 1e-12);
        // compute_var: unbiased std per channel over the 2 tokens: sqrt(8 + 1e-6), sqrt(32 + 1e-6).
        assertEquals((Math.sqrt(8 + 1e-6) + Math.sqrt(32 + 1e-6)) / 2, s.meanChannelStd(), 1e-12);
    }

    @Test
    void instanceNormLeavesUnitVarianceOverPositions() {
        double[] x = {1, 3, 5, 11, -2, 0.5, 7, 1, 2, 2, 3, 4};
        double[] y = ActivationStats.instanceNorm(x, 2, 3, 2);
        ActivationStats s = new ActivationStats();
        s.add(y, 2, 3, 2);
        // Each (sample, channel) has unit variance over positions up to the 1e-5 eps.
        assertEquals(1, s.varianceOverPositions(), 1e-4);
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < 2; c++) {
                double m = 0;
                for (int p = 0; p < 3; p++) m += y[(b * 3 + p) * 2 + c];
                assertEquals(0, m, 1e-12);
            }
        }
    }
}
