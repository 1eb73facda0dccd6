package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.d2v.nn.AttentionBias;
import org.junit.jupiter.api.Test;

/** The fixed 2-D sin-cos table (docs/algorithm.md §3.1) and the ALiBi slopes for 12 heads (docs/algorithm.md §3.2). */
class PositionsTest {
    @Test
    void alibiSlopesForTwelveHeads() {
        double[] spec = {0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625, 0.70711, 0.35355, 0.17678, 0.08839};
        assertArrayEquals(spec, AttentionBias.slopes(12), 5e-6);
    }

    @Test
    void sinCosTableFollowsTheMaeFormula() {
        int dim = 16, h = 3, w = 5, q = dim / 4;
        double[] table = SinCos2d.table(dim, h, w);
        assertEquals(h * w * dim, table.length);
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                for (int k = 0; k < q; k++) {
                    double omega = 1.0 / Math.pow(10000, (double) k / q);
                    int base = (i * w + j) * dim;
                    assertEquals(Math.sin(j * omega), table[base + k], 1e-15, "column sin");
                    assertEquals(Math.cos(j * omega), table[base + q + k], 1e-15, "column cos");
                    assertEquals(Math.sin(i * omega), table[base + 2 * q + k], 1e-15, "row sin");
                    assertEquals(Math.cos(i * omega), table[base + 3 * q + k], 1e-15, "row cos");
                }
            }
        }
        // ω_k = 10000^(−k/192) at D = 768: channel 1 of patch (0, 1) is sin(1·10000^(−1/192)).
        double[] base = SinCos2d.table(768, 14, 14);
        assertEquals(Math.sin(Math.pow(10000, -1.0 / 192)), base[768 + 1], 1e-15);
        assertEquals(1.0, base[192], 0.0, "cos(0) for column 0");
    }
}
