package org.d2v.data.image;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.d2v.backend.RandomStream;
import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoding, mode conversion and resampling against Pillow's output (testdata/bicubic/make.py). */
class ImagePipelineTest {
    @TempDir Path tmp;

    static final int H = 13, W = 17;

    static int px(int y, int x, int c) { return (y * 37 + x * 91 + c * 53 + (x * y) % 17) % 256; }

    static float[] source() {
        float[] s = new float[H * W * 3];
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) for (int c = 0; c < 3; c++) s[(y * W + x) * 3 + c] = px(y, x, c) / 255f;
        return s;
    }

    record Case(String name, int h, int w, int c, int[] bytes) {}

    static Case pillow(String name) throws Exception {
        for (String line : Files.readAllLines(TestData.file("bicubic/pillow.txt"))) {
            String[] f = line.split(" ");
            if (!f[0].equals(name)) continue;
            int[] v = new int[f.length - 4];
            for (int i = 0; i < v.length; i++) v[i] = Integer.parseInt(f[i + 4]);
            return new Case(name, Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]), v);
        }
        throw new IllegalStateException("no case " + name);
    }

    /** Largest difference in byte levels between our floats and Pillow's bytes. */
    static double maxDiff(float[] ours, int[] pil) {
        assertEquals(pil.length, ours.length);
        double worst = 0;
        for (int i = 0; i < pil.length; i++) worst = Math.max(worst, Math.abs(ours[i] * 255 - pil[i]));
        return worst;
    }

    @Test
    void bicubicMatchesPillowWithinOneByteLevel() throws Exception {
        float[] s = source();
        Case down = pillow("down"), up = pillow("up"), crop = pillow("crop");
        double d1 = maxDiff(Bicubic.resize(s, H, W, 3, down.h(), down.w()), down.bytes());
        double d2 = maxDiff(Bicubic.resize(s, H, W, 3, up.h(), up.w()), up.bytes());
        double d3 = maxDiff(Bicubic.resize(s, H, W, 3, 2, 3, 9, 11, crop.h(), crop.w()), crop.bytes());
        System.out.printf("bicubic vs Pillow, max |diff| in byte levels: down %.3f, up %.3f, crop %.3f%n", d1, d2, d3);
        // Pillow rounds to bytes after each of its two passes (and clamps there); we stay in float.
        assertTrue(d1 <= 1.0 && d2 <= 1.5 && d3 <= 1.0, d1 + " " + d2 + " " + d3);
    }

    @Test
    void greyConversionIsPillowsLuminance() throws Exception {
        BufferedImage rgb = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) rgb.setRGB(x, y, (px(y, x, 0) << 16) | (px(y, x, 1) << 8) | px(y, x, 2));
        Path f = tmp.resolve("rgb.png");
        ImageIO.write(rgb, "png", f.toFile());
        ImageFiles.Decoded g = ImageFiles.read(f, 1);
        Case grey = pillow("grey");
        assertEquals(0.0, maxDiff(g.pixels(), grey.bytes()), 1e-3, "exactly PIL's L");
        Case gd = pillow("grey-down");
        assertTrue(maxDiff(Bicubic.resize(g.pixels(), H, W, 1, gd.h(), gd.w()), gd.bytes()) <= 1.0);
    }

    @Test
    void everyFormatAndModeDecodesToTheWantedChannels() throws Exception {
        int w = 9, h = 7;
        BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        BufferedImage rgba = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        byte[] r = {0, (byte) 200, 50}, g = {0, 100, (byte) 250}, b = {0, 20, (byte) 128};
        BufferedImage palette = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 3, r, g, b));
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                grey.getRaster().setSample(x, y, 0, (x * 30 + y) % 256);
                rgb.setRGB(x, y, (x * 20) << 16 | (y * 30) << 8 | 77);
                rgba.setRGB(x, y, (x * 25) << 24 | (x * 20) << 16 | (y * 30) << 8 | 77);
                palette.getRaster().setSample(x, y, 0, (x + y) % 3);
            }
        }
        Object[][] files = {{"grey.png", grey, "png"}, {"rgb.jpg", rgb, "jpg"}, {"rgba.png", rgba, "png"}, {"pal.gif", palette, "gif"},
                {"rgb.bmp", rgb, "bmp"}, {"grey.jpg", grey, "jpg"}};
        for (Object[] f : files) ImageIO.write((BufferedImage) f[1], (String) f[2], tmp.resolve((String) f[0]).toFile());
        // Grey samples are taken as stored (no sRGB conversion) and replicated to RGB.
        ImageFiles.Decoded g3 = ImageFiles.read(tmp.resolve("grey.png"), 3);
        assertEquals((3 * 30 + 2) / 255f, g3.pixels()[(2 * w + 3) * 3], 1e-6);
        assertEquals(g3.pixels()[(2 * w + 3) * 3], g3.pixels()[(2 * w + 3) * 3 + 2]);
        // RGBA keeps its colour and drops alpha, as PIL's convert("RGB").
        ImageFiles.Decoded a3 = ImageFiles.read(tmp.resolve("rgba.png"), 3);
        assertEquals(4 * 20 / 255f, a3.pixels()[(1 * w + 4) * 3], 1e-6);
        ImageFiles.Decoded p3 = ImageFiles.read(tmp.resolve("pal.gif"), 3);
        assertEquals(200 / 255f, p3.pixels()[(0 * w + 1) * 3], 1e-6, "palette entry 1");
        ImageFiles.Decoded p1 = ImageFiles.read(tmp.resolve("pal.gif"), 1);
        assertEquals(ImageFiles.luminance(200, 100, 20) / 255f, p1.pixels()[1], 1e-6);
        for (Object[] f : files) {
            for (int c : new int[] {1, 3}) {
                ImageFiles.Decoded d = ImageFiles.read(tmp.resolve((String) f[0]), c);
                assertEquals(h, d.height());
                assertEquals(w, d.width());
                assertEquals(c, d.channels());
            }
        }
        assertEquals(List.of(tmp.resolve("grey.jpg"), tmp.resolve("grey.png"), tmp.resolve("pal.gif"), tmp.resolve("rgb.bmp"), tmp.resolve("rgb.jpg"),
                tmp.resolve("rgba.png")), ImageFiles.list(tmp));
    }

    @Test
    void progressiveAndCmykJpegsDecode() throws Exception {
        // Written by Pillow 12 (progressive=True; mode CMYK) from a 12x10 gradient R = 20x, G = 25y, B = 128:
        // the JDK's ImageIO reads both (so no extra JPEG decoder is needed), close to the source colours.
        for (String[] f : new String[][] {{"progressive.jpg", Fixtures.PROGRESSIVE_JPEG}, {"cmyk.jpg", Fixtures.CMYK_JPEG}}) {
            Path p = tmp.resolve(f[0]);
            Files.write(p, java.util.Base64.getDecoder().decode(f[1]));
            ImageFiles.Decoded d = ImageFiles.read(p, 3);
            assertEquals(12, d.width());
            assertEquals(10, d.height());
            double sum = 0;
            for (int y = 0; y < 10; y++) {
                for (int x = 0; x < 12; x++) {
                    int[] want = {20 * x, 25 * y, 128};
                    for (int c = 0; c < 3; c++) sum += Math.abs(d.pixels()[(y * 12 + x) * 3 + c] * 255 - want[c]);
                }
            }
            double mean = sum / 360;
            System.out.printf("%s: mean |decoded - source| %.2f levels (JPEG at quality 90, 4:2:0 chroma)%n", f[0], mean);
            assertTrue(mean < 6, f[0] + ": off by " + mean + " levels on average");
        }
    }

    @Test
    void brokenFilesAreNamed() throws Exception {
        Path txt = tmp.resolve("notes.png");
        Files.writeString(txt, "not an image");
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFiles.read(txt, 3));
        assertTrue(e.getMessage().startsWith(txt.toString()) && e.getMessage().contains("not a readable image"), e.getMessage());
        BufferedImage rgb = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        Path png = tmp.resolve("cut.png");
        ImageIO.write(rgb, "png", png.toFile());
        byte[] all = Files.readAllBytes(png);
        Files.write(png, java.util.Arrays.copyOf(all, all.length / 2));
        e = assertThrows(DataFormatException.class, () -> ImageFiles.read(png, 3));
        assertTrue(e.getMessage().startsWith(png.toString()), e.getMessage());
    }

    @Test
    void pipelineShapesNormalisationAndDeterminism() {
        ImagePipeline p = new ImagePipeline(24, 3);
        ImageFiles.Decoded im = new ImageFiles.Decoded(H, W, 3, source());
        float[] a = p.pretrain(im, new RandomStream(5, 0)), b = p.pretrain(im, new RandomStream(5, 0)), c = p.pretrain(im, new RandomStream(6, 0));
        assertEquals(24 * 24 * 3, a.length);
        assertArrayEquals(a, b, "same stream, same crop and flip");
        assertFalse(java.util.Arrays.equals(a, c));
        float[] e = p.eval(im);
        // eval: shorter side 13 -> floor(24 / 0.875) = 27, longer 17 -> 35, centre 24x24; a white image normalises to (1 - mean) / std.
        float[] white = new float[H * W * 3];
        java.util.Arrays.fill(white, 1f);
        float[] ew = p.eval(new ImageFiles.Decoded(H, W, 3, white));
        assertEquals((1 - 0.485f) / 0.229f, ew[0], 1e-5);
        assertEquals((1 - 0.406f) / 0.225f, ew[ew.length - 1], 1e-5);
        assertEquals(24 * 24 * 3, e.length);
        float[] g = new ImagePipeline(24, 1).eval(new ImageFiles.Decoded(H, W, 1, new float[H * W]));
        assertEquals(-ImagePipeline.GREY_MEAN / ImagePipeline.GREY_STD, g[0], 1e-5);
    }
}
