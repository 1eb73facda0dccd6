package org.d2v.bench.profile;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A horizontal bar chart as a PNG (java.awt, headless): one labelled bar per row, longest first as given. */
final class BarChart {
    record Bar(String label, double value, String note, boolean highlight) {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private BarChart() {}

    static void write(Path out, String title, String unit, List<Bar> bars) throws IOException {
        int rowH = 22, top = 48, bottom = 36, barMax = 420;
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        pg.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = pg.getFontMetrics();
        int labelW = 0, noteW = 0;
        for (Bar b : bars) {
            labelW = Math.max(labelW, fm.stringWidth(b.label()));
            noteW = Math.max(noteW, fm.stringWidth(b.note()));
        }
        pg.dispose();
        int left = labelW + 20, w = left + barMax + noteW + 30, h = top + rowH * bars.size() + bottom;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 10, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        double max = bars.stream().mapToDouble(Bar::value).max().orElse(1);
        if (max <= 0) max = 1;
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int y = top + i * rowH;
            int len = (int) Math.round(barMax * Math.max(0, b.value()) / max);
            g.setColor(b.highlight() ? new Color(0xd62728) : new Color(0x1f77b4));
            g.fillRect(left, y + 3, Math.max(1, len), rowH - 6);
            g.setColor(Color.BLACK);
            g.drawString(b.label(), left - 10 - g.getFontMetrics().stringWidth(b.label()), y + rowH - 7);
            g.drawString(b.note(), left + len + 6, y + rowH - 7);
        }
        g.setColor(Color.DARK_GRAY);
        g.drawLine(left, top, left, top + rowH * bars.size());
        g.drawString(String.format(Locale.ROOT, "%s (longest bar %.2f %s)", unit, max, unit.split(" ")[0]), left, h - 12);
        g.dispose();
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        if (!ImageIO.write(img, "png", out.toFile())) throw new IOException(out + ": no PNG writer in this JRE");
    }
}
