package org.d2v.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** PNG figures drawn with java.awt, headless (no display needed). */
public final class Charts {
    private static final int W = 720, H = 440, LEFT = 70, RIGHT = 170, TOP = 40, BOTTOM = 50;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x7f7f7f)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /** One line of a chart; {@code markers} draws a dot at each point. Horizontal lines: two points. */
    public record Series(String name, double[] x, double[] y, boolean markers) {
        public Series {
            if (x.length != y.length) throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
        }

        /** A horizontal reference line at {@code y} across [x0, x1]. */
        public static Series level(String name, double y, double x0, double x1) {
            return new Series(name, new double[] {x0, x1}, new double[] {y, y}, false);
        }
    }

    /** A line chart with a legend on the right. Non-finite points are skipped. */
    public static void lines(Path out, String title, String xLabel, String yLabel, List<Series> series) throws IOException {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = x0, y1 = x1;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) continue;
                x0 = Math.min(x0, s.x()[i]);
                x1 = Math.max(x1, s.x()[i]);
                y0 = Math.min(y0, s.y()[i]);
                y1 = Math.max(y1, s.y()[i]);
            }
        }
        if (x0 > x1) {
            x0 = 0;
            x1 = 1;
            y0 = 0;
            y1 = 1;
        }
        if (x1 - x0 < 1e-12) x1 = x0 + 1;
        double pad = Math.max((y1 - y0) * 0.08, 1e-6);
        y0 -= pad;
        y1 += pad;
        Font legendFont = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
        int legend = 0;
        Graphics2D measure = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        for (Series s : series) legend = Math.max(legend, measure.getFontMetrics(legendFont).stringWidth(s.name()));
        measure.dispose();
        // The plot keeps its size; a long legend widens the canvas instead of being cut off.
        int width = W + Math.max(0, 32 + legend + 8 - RIGHT);
        BufferedImage img = new BufferedImage(width, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, LEFT, 24);
        g.setFont(legendFont);
        g.drawRect(LEFT, TOP, pw, ph);
        // Grid lines and labels at round values (1, 2, 2.5 or 5 times a power of ten), five to eight per axis.
        java.awt.FontMetrics fm = g.getFontMetrics();
        double xStep = niceStep((x1 - x0) / 6), yStep = niceStep((y1 - y0) / 6);
        for (double xv : ticks(x0, x1, xStep)) {
            int px = LEFT + (int) Math.round((xv - x0) / (x1 - x0) * pw);
            g.setColor(new Color(0xe8e8e8));
            g.drawLine(px, TOP + 1, px, TOP + ph - 1);
            g.setColor(Color.DARK_GRAY);
            String label = label(xv, xStep);
            g.drawString(label, px - fm.stringWidth(label) / 2, TOP + ph + 16);
        }
        for (double yv : ticks(y0, y1, yStep)) {
            int py = TOP + ph - (int) Math.round((yv - y0) / (y1 - y0) * ph);
            g.setColor(new Color(0xe8e8e8));
            g.drawLine(LEFT + 1, py, LEFT + pw - 1, py);
            g.setColor(Color.DARK_GRAY);
            String label = label(yv, yStep);
            g.drawString(label, LEFT - 6 - fm.stringWidth(label), py + 4);
        }
        g.drawString(xLabel, LEFT + pw / 2 - 40, H - 12);
        g.drawString(yLabel, 8, TOP - 8);
        g.setStroke(new BasicStroke(2f));
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            g.setColor(PALETTE[si % PALETTE.length]);
            int lastX = Integer.MIN_VALUE, lastY = 0;
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) continue;
                int px = LEFT + (int) Math.round((s.x()[i] - x0) / (x1 - x0) * pw);
                int py = TOP + ph - (int) Math.round((s.y()[i] - y0) / (y1 - y0) * ph);
                if (lastX != Integer.MIN_VALUE) g.drawLine(lastX, lastY, px, py);
                if (s.markers()) g.fillOval(px - 4, py - 4, 8, 8);
                lastX = px;
                lastY = py;
            }
            int ly = TOP + 14 + si * 18;
            g.fillRect(W - RIGHT + 12, ly - 8, 14, 4);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), W - RIGHT + 32, ly - 2);
        }
        g.dispose();
        write(img, out);
    }

    /**
     * One greyscale tile: h × w values, scaled to black..white over [lo, hi] (NaN bounds: the
     * tile's own min and max, so tiles that share bounds share a scale). NaN values are drawn in
     * light blue: "no value here".
     */
    public record Tile(float[] values, int h, int w, float lo, float hi) {
        public Tile {
            if (values.length != h * w) throw new IllegalArgumentException("tile has " + values.length + " values, not " + h + "x" + w);
        }

        /** Scaled by its own min and max. */
        public Tile(float[] values, int h, int w) { this(values, h, w, Float.NaN, Float.NaN); }
    }

    /** A grid of tiles (rows × columns, each shown {@code scale} times enlarged) with column titles. */
    public static void tiles(Path out, String title, List<String> columns, List<List<Tile>> rows, int scale) throws IOException {
        int cellW = 0, cellH = 0;
        for (List<Tile> r : rows) for (Tile t : r) {
            cellW = Math.max(cellW, t.w() * scale);
            cellH = Math.max(cellH, t.h() * scale);
        }
        int gap = 10, head = 50, colW = Math.max(cellW, 130) + gap;
        Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 13);
        Graphics2D measure = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        int titleW = measure.getFontMetrics(titleFont).stringWidth(title);
        measure.dispose();
        BufferedImage img = new BufferedImage(Math.max(gap + Math.max(columns.size() * colW, titleW + gap), 300), head + rows.size() * (cellH + gap) + gap,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        g.setColor(Color.BLACK);
        g.setFont(titleFont);
        g.drawString(title, gap, 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int c = 0; c < columns.size(); c++) g.drawString(columns.get(c), gap + c * colW, head - 8);
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < rows.get(r).size(); c++) {
                Tile t = rows.get(r).get(c);
                BufferedImage tile = grey(t);
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
                g.drawImage(tile, gap + c * colW, head + r * (cellH + gap), t.w() * scale, t.h() * scale, null);
            }
        }
        g.dispose();
        write(img, out);
    }

    private static BufferedImage grey(Tile t) {
        float lo = t.lo(), hi = t.hi();
        if (Float.isNaN(lo) || Float.isNaN(hi)) {
            lo = Float.POSITIVE_INFINITY;
            hi = Float.NEGATIVE_INFINITY;
            for (float v : t.values()) {
                if (Float.isNaN(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        float span = hi - lo > 1e-12f ? hi - lo : 1f;
        BufferedImage img = new BufferedImage(t.w(), t.h(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < t.h(); y++) {
            for (int x = 0; x < t.w(); x++) {
                float f = t.values()[y * t.w() + x];
                if (Float.isNaN(f)) {
                    img.setRGB(x, y, 0xcfe3f5);
                    continue;
                }
                int v = Math.max(0, Math.min(255, Math.round((f - lo) / span * 255)));
                img.setRGB(x, y, v << 16 | v << 8 | v);
            }
        }
        return img;
    }

    private static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        return g;
    }

    private static void write(BufferedImage img, Path out) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        if (!ImageIO.write(img, "png", out.toFile())) throw new IOException(out + ": no PNG writer in this JRE");
    }

    /** The smallest of 1, 2, 2.5, 5 (times a power of ten) that is at least {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 2.5, 5}) if (m * p >= raw * (1 - 1e-9)) return m * p;
        return 10 * p;
    }

    /** The multiples of {@code step} in [lo, hi]. */
    static double[] ticks(double lo, double hi, double step) {
        long first = (long) Math.ceil(lo / step - 1e-9), last = (long) Math.floor(hi / step + 1e-9);
        double[] t = new double[(int) Math.max(0, last - first + 1)];
        for (int i = 0; i < t.length; i++) t[i] = (first + i) * step;
        return t;
    }

    /** A tick value with the decimals its step has (step 0.25 → 0.75, step 5 → 15), or in powers of ten when tiny or huge. */
    static String label(double v, double step) {
        if (Math.abs(v) < step * 1e-6) v = 0;
        if (v != 0 && (Math.abs(v) >= 1e6 || step < 1e-4)) return String.format(Locale.ROOT, "%.2g", v);
        int decimals = Math.max(0, java.math.BigDecimal.valueOf(step).stripTrailingZeros().scale());
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
