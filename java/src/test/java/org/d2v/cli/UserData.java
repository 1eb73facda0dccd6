package org.d2v.cli;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.d2v.data.audio.Wav;

/**
 * A new user's own data, made on the spot (nothing committed): image folders of mixed formats,
 * sizes and modes, WAV folders and a fairseq manifest with clips of mixed lengths and sample
 * formats, .txt folders. Two visibly different classes each, so a probe has something to find.
 */
final class UserData {
    private UserData() {}

    /**
     * {@code dir/<class>/…}: classes "rings" (concentric circles) and "stripes" (diagonal bands), PNG and
     * JPEG (and a BMP and a GIF), grey, RGB, RGBA and palette, sides 20 to 75 pixels, some in a sub-folder.
     */
    static Path images(Path dir, int perClass) throws IOException {
        Random r = new Random(3);
        String[] modes = {"grey", "rgb", "rgba", "palette"};
        for (String cls : new String[] {"rings", "stripes"}) {
            for (int i = 0; i < perClass; i++) {
                int w = 20 + r.nextInt(56), h = 20 + r.nextInt(56);
                String mode = modes[i % modes.length];
                BufferedImage im = switch (mode) {
                    case "grey" -> new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
                    case "rgba" -> new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
                    case "palette" -> new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, palette());
                    default -> new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                };
                double phase = r.nextDouble() * 6, freq = 0.25 + r.nextDouble() * 0.2;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double v = cls.equals("rings") ? Math.sin(freq * Math.hypot(x - w / 2.0, y - h / 2.0) + phase) : Math.sin(freq * (x + y) + phase);
                        int level = (int) Math.round(127.5 + 127.5 * v);
                        im.setRGB(x, y, 0xFF000000 | level << 16 | (255 - level) << 8 | (level / 2));
                    }
                }
                boolean jpeg = !mode.equals("rgba") && !mode.equals("palette") && i % 2 == 1;
                String format = mode.equals("palette") && i % 8 == 3 ? "gif" : i % 10 == 0 && mode.equals("rgb") ? "bmp" : jpeg ? "jpg" : "png";
                Path sub = dir.resolve(cls).resolve(i % 3 == 0 ? "more" : "");
                Files.createDirectories(sub);
                if (!ImageIO.write(im, format, sub.resolve(cls + i + "." + format).toFile())) throw new IOException("no writer for " + format);
            }
        }
        return dir;
    }

    private static IndexColorModel palette() {
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        for (int i = 0; i < 256; i++) {
            r[i] = (byte) i;
            g[i] = (byte) (255 - i);
            b[i] = (byte) (i / 2);
        }
        return new IndexColorModel(8, 256, r, g, b);
    }

    /** A tone clip: {@code hz} with a little noise. */
    static float[] tone(double hz, int samples, Random r) {
        float[] w = new float[samples];
        for (int i = 0; i < samples; i++) w[i] = (float) (0.4 * Math.sin(2 * Math.PI * hz * i / Wav.RATE) + 0.02 * r.nextGaussian());
        return w;
    }

    /**
     * {@code dir/<class>/*.wav}: classes "low" (150–250 Hz) and "high" (900–1300 Hz), 0.08 to 0.55 s
     * (micro's min_sample_size is 0.125 s, max 0.25 s: some are skipped, some cropped), 16-bit PCM and 32-bit float.
     * Returns the relative paths and sample counts (a manifest's lines).
     */
    static List<String> audio(Path dir, int perClass) throws IOException {
        Random r = new Random(4);
        List<String> lines = new ArrayList<>();
        for (String cls : new String[] {"high", "low"}) {
            Files.createDirectories(dir.resolve(cls));
            for (int i = 0; i < perClass; i++) {
                int n = 1300 + r.nextInt(7500);
                double hz = cls.equals("low") ? 150 + r.nextInt(100) : 900 + r.nextInt(400);
                String rel = cls + "/" + cls + i + ".wav";
                Wav.writeRaw(dir.resolve(rel), tone(hz, n, r), Wav.RATE, i % 3 == 0 ? 3 : 1, i % 3 == 0 ? 32 : 16, 1);
                lines.add(rel + "\t" + n);
            }
        }
        return lines;
    }

    /** fairseq's manifest of {@code audio(dir, …)}: the root, then path<TAB>samples. */
    static Path manifest(Path dir, List<String> lines, Path tsv) throws IOException {
        List<String> all = new ArrayList<>();
        all.add(dir.toAbsolutePath().toString());
        all.addAll(lines);
        Files.write(tsv, all, StandardCharsets.UTF_8);
        return tsv;
    }

    private static final String[] POS = {"good", "great", "lovely", "wonderful", "fine"}, NEG = {"bad", "awful", "poor", "terrible", "dull"};
    private static final String[] FILL = {"the", "food", "was", "and", "service", "really", "très", "naïve", "café", "today"};

    static String sentence(Random r, boolean positive) {
        return FILL[r.nextInt(FILL.length)] + " " + (positive ? POS : NEG)[r.nextInt(5)] + " " + FILL[r.nextInt(FILL.length)] + " "
                + (positive ? POS : NEG)[r.nextInt(5)] + ".";
    }

    /** {@code dir/<class>/*.txt} (classes "neg", "pos"), one short review per file. */
    static Path labeledText(Path dir, int perClass) throws IOException {
        Random r = new Random(5);
        for (String cls : new String[] {"neg", "pos"}) {
            Files.createDirectories(dir.resolve(cls));
            for (int i = 0; i < perClass; i++) Files.writeString(dir.resolve(cls).resolve(i + ".txt"), sentence(r, cls.equals("pos")) + " " + sentence(r, cls.equals("pos")));
        }
        return dir;
    }

    /** A pretraining corpus: {@code files} .txt documents of a few dozen sentences, some in a sub-folder. */
    static Path corpus(Path dir, int files) throws IOException {
        Random r = new Random(6);
        for (int f = 0; f < files; f++) {
            StringBuilder b = new StringBuilder();
            for (int s = 0; s < 30; s++) b.append(sentence(r, r.nextBoolean())).append(s % 7 == 6 ? "\n\n" : " ");
            Path p = dir.resolve(f % 2 == 0 ? "a" : "b/c").resolve("doc" + f + ".txt");
            Files.createDirectories(p.getParent());
            Files.writeString(p, b.toString());
        }
        return dir;
    }
}
