package org.d2v.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * Draws the loss curve of a run as a PNG: total loss and its regression term against the step,
 * the loss on a log scale (pretraining losses fall over orders of magnitude), with axes, ticks
 * and labels. Runs headless, so it works on servers without a display.
 */
public final class LossPlot {
    static final int WIDTH = 900, HEIGHT = 540;
    private static final int LEFT = 90, RIGHT = 30, TOP = 50, BOTTOM = 70;
    static final Color LOSS = new Color(0x1f77b4), REGRESSION = new Color(0xff7f0e);

    private LossPlot() {}

    /** Writes the plot to {@code png} (atomically: a reader never sees half an image). */
    public static void write(Path png, List<MetricsRow> rows, String title) throws IOException {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        BufferedImage img = render(rows, title);
        Path temp = png.resolveSibling(png.getFileName() + ".tmp");
        if (!ImageIO.write(img, "png", temp.toFile())) throw new IOException("no PNG writer in this JVM");
        Files.move(temp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static BufferedImage render(List<MetricsRow> rows, String title) {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.BLACK);
            g.setFont(g.getFont().deriveFont(Font.BOLD, 15f));
            centred(g, title, WIDTH / 2, 28);
            g.setFont(g.getFont().deriveFont(Font.PLAIN, 12f));

            double minStep = Double.POSITIVE_INFINITY, maxStep = Double.NEGATIVE_INFINITY;
            double minLoss = Double.POSITIVE_INFINITY, maxLoss = Double.NEGATIVE_INFINITY;
            for (MetricsRow r : rows) {
                minStep = Math.min(minStep, r.step());
                maxStep = Math.max(maxStep, r.step());
                for (double v : new double[] {r.loss(), r.regression()}) {
                    if (v > 0 && Double.isFinite(v)) {
                        minLoss = Math.min(minLoss, v);
                        maxLoss = Math.max(maxLoss, v);
                    }
                }
            }
            int x0 = LEFT, x1 = WIDTH - RIGHT, y0 = HEIGHT - BOTTOM, y1 = TOP;
            g.drawRect(x0, y1, x1 - x0, y0 - y1);
            centred(g, "step", (x0 + x1) / 2, HEIGHT - 20);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            centred(g, "loss (log scale)", -(y0 + y1) / 2, 22);
            g.setTransform(saved);
            if (minLoss > maxLoss) {
                centred(g, "no positive finite loss values yet", (x0 + x1) / 2, (y0 + y1) / 2);
                return img;
            }
            if (maxStep == minStep) { minStep -= 1; maxStep += 1; }
            double lo = Math.floor(Math.log10(minLoss) * 4) / 4, hi = Math.ceil(Math.log10(maxLoss) * 4) / 4;
            if (hi - lo < 0.25) { lo -= 0.25; hi += 0.25; }
            Axis xs = new Axis(minStep, maxStep, x0, x1), ys = new Axis(lo, hi, y0, y1);

            // x ticks: about 8 round steps
            double stepTick = niceStep((maxStep - minStep) / 8);
            for (double s = Math.ceil(minStep / stepTick) * stepTick; s <= maxStep; s += stepTick) {
                int x = xs.px(s);
                grid(g, x, y0, x, y1);
                g.drawLine(x, y0, x, y0 + 5);
                centred(g, format(s), x, y0 + 20);
            }
            // y ticks at m × 10^k inside the range: decades when it spans many, 1-2-5 for a few, every digit within one
            int[] mantissas = hi - lo > 3 ? new int[] {1} : hi - lo > 1 ? new int[] {1, 2, 5} : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9};
            for (int e = (int) Math.floor(lo); e <= (int) Math.ceil(hi); e++) {
                for (int m : mantissas) {
                    double v = Math.log10(m) + e;
                    if (v < lo - 1e-9 || v > hi + 1e-9) continue;
                    int y = ys.px(v);
                    grid(g, x0, y, x1, y);
                    g.drawLine(x0 - 5, y, x0, y);
                    String label = format(m * Math.pow(10, e));
                    g.drawString(label, x0 - 8 - g.getFontMetrics().stringWidth(label), y + 4);
                }
            }
            curve(g, rows, MetricsRow::regression, xs, ys, REGRESSION);
            curve(g, rows, MetricsRow::loss, xs, ys, LOSS);
            legend(g, x1 - 150, y1 + 12);
        } finally {
            g.dispose();
        }
        return img;
    }

    private record Axis(double from, double to, int pxFrom, int pxTo) {
        int px(double v) { return (int) Math.round(pxFrom + (v - from) / (to - from) * (pxTo - pxFrom)); }
    }

    private static void curve(Graphics2D g, List<MetricsRow> rows, ToDoubleFunction<MetricsRow> f, Axis xs, Axis ys, Color c) {
        Path2D.Double path = new Path2D.Double();
        boolean open = false;
        for (MetricsRow r : rows) {
            double v = f.applyAsDouble(r);
            if (!(v > 0 && Double.isFinite(v))) { open = false; continue; }
            double x = xs.px(r.step()), y = ys.px(Math.log10(v));
            if (open) path.lineTo(x, y);
            else path.moveTo(x, y);
            open = true;
        }
        g.setColor(c);
        g.setStroke(new BasicStroke(1.8f));
        g.draw(path);
        g.setStroke(new BasicStroke(1f));
        g.setColor(Color.BLACK);
    }

    private static void legend(Graphics2D g, int x, int y) {
        g.setColor(Color.WHITE);
        g.fillRect(x, y, 140, 44);
        g.setColor(Color.GRAY);
        g.drawRect(x, y, 140, 44);
        String[] names = {"loss", "regression"};
        Color[] colors = {LOSS, REGRESSION};
        for (int i = 0; i < 2; i++) {
            g.setColor(colors[i]);
            g.fillRect(x + 8, y + 10 + i * 18, 24, 4);
            g.setColor(Color.BLACK);
            g.drawString(names[i], x + 40, y + 16 + i * 18);
        }
    }

    private static void grid(Graphics2D g, int xa, int ya, int xb, int yb) {
        g.setColor(new Color(0xE6E6E6));
        g.drawLine(xa, ya, xb, yb);
        g.setColor(Color.BLACK);
    }

    private static void centred(Graphics2D g, String s, int x, int y) {
        FontMetrics fm = g.getFontMetrics();
        g.drawString(s, x - fm.stringWidth(s) / 2, y);
    }

    private static double niceStep(double raw) {
        if (raw <= 0) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double m = raw / p;
        double nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
        return Math.max(1, nice * p);
    }

    private static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7) return Long.toString((long) v);
        // Three significant digits without trailing zeros: 0.5, 0.25, 1.5e-05.
        return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toString();
    }
}
