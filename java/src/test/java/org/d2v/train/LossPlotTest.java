package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LossPlotTest {
    private static MetricsRow row(long step, double loss) {
        return new MetricsRow(step, 1e-3, loss, loss, 0, 1, 1, 1, 1, 1, step);
    }

    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == (rgb & 0xFFFFFF)) n++;
        return n;
    }

    @Test
    void degenerateInputsStillGiveAnImage() {
        List<List<MetricsRow>> cases = List.of(List.of(), List.of(row(1, 2.0)), List.of(row(1, Double.NaN), row(2, -1)),
                List.of(row(1, 3.0), row(2, 3.0)));
        for (List<MetricsRow> rows : cases) {
            BufferedImage img = LossPlot.render(rows, "t");
            assertEquals(LossPlot.WIDTH, img.getWidth());
        }
    }

    @Test
    void aFallingLossIsDrawnFromTopLeftToBottomRight() {
        List<MetricsRow> rows = new ArrayList<>();
        for (int i = 1; i <= 100; i++) rows.add(row(i, 10 * Math.exp(-i / 20.0)));
        BufferedImage img = LossPlot.render(rows, "t");
        int rgb = LossPlot.LOSS.getRGB() & 0xFFFFFF;
        double leftY = 0, rightY = 0;
        int left = 0, right = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xFFFFFF) != rgb || y < 120) continue; // skip the legend swatch
                if (x < img.getWidth() / 3) { leftY += y; left++; }
                if (x > 2 * img.getWidth() / 3) { rightY += y; right++; }
            }
        }
        assertTrue(left > 10 && right > 10, left + " " + right);
        assertTrue(leftY / left < rightY / right, "the curve falls (image y grows downwards)");
        assertTrue(count(img, rgb) > 100);
    }
}
