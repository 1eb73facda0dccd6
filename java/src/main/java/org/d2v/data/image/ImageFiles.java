package org.d2v.data.image;

import org.d2v.data.DataFormatException;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Image files as the pretraining and probe pipelines read them: PNG, JPEG, BMP and GIF (the
 * decoders the JDK's ImageIO ships), any size, decoded to channels-last floats in [0, 1] with the
 * channel count the model wants. Conversions follow PIL's, which torchvision's loader uses:
 * grey to RGB replicates the value, RGBA and palette images keep their colour and drop alpha
 * (no compositing), RGB to grey is PIL's luminance L = (299 R + 587 G + 114 B) / 1000.
 */
public final class ImageFiles {
    /** The file name endings read as images (case-insensitive). */
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");
    /** PIL's DecompressionBombError threshold (twice Image.MAX_IMAGE_PIXELS). */
    public static final long MAX_PIXELS = 2L * 89_478_485;
    /**
     * Pixels one byte of file can stand for, by format, a little above each one's best case:
     * PNG 1 bit a pixel through deflate's 1032:1 (8,256), GIF's 12-bit LZW codes of at most ~4,090
     * pixels (about 2,730), JPEG one bit a block's DC in a progressive scan (512), uncompressed BMP
     * 1 bit a pixel (8). Run-length BMP can skip any number of pixels with four bytes: the generous
     * {@link #MAX_PIXELS_PER_BYTE} applies to it and to any other format ImageIO may know.
     */
    static final java.util.Map<String, Long> PIXELS_PER_BYTE = java.util.Map.of("png", 8_300L, "gif", 2_800L, "jpeg", 1_024L, "bmp", 9L);
    public static final long MAX_PIXELS_PER_BYTE = 16_384;
    private static final long MIN_PIXELS_ANY_FILE = 1 << 16;

    private ImageFiles() {}

    /** One decoded image: (height, width, channels) channels-last, values in [0, 1]. */
    public record Decoded(int height, int width, int channels, float[] pixels) {
        public Decoded {
            if ((long) height * width * channels != pixels.length) throw new IllegalArgumentException("pixels do not match " + height + "x" + width + "x" + channels);
        }
    }

    public static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1)) && !n.startsWith(".");
    }

    /** Every image file under {@code dir} (recursively), sorted by path; hidden files are skipped. */
    public static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(ImageFiles::isImage).sorted().toList();
        }
    }

    /**
     * Decodes {@code file} to {@code channels} (1 or 3) channels; errors name the file. The size
     * the header declares is checked before ImageIO allocates the picture: at most
     * {@link #MAX_PIXELS} (PIL's decompression-bomb limit) and at most what each byte of the file
     * can stand for in its format ({@link #PIXELS_PER_BYTE}); a PNG's chunk CRCs are verified
     * ({@link PngChunks}).
     */
    public static Decoded read(Path file, int channels) throws IOException {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("images have 1 or 3 channels, not " + channels);
        long size;
        byte[] head = new byte[64];
        int headLen;
        try (InputStream in = Files.newInputStream(file)) {
            size = Files.size(file);
            headLen = in.readNBytes(head, 0, head.length);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new DataFormatException(file, "no such file");
        } catch (IOException e) {
            throw new DataFormatException(file, "cannot be read (" + e.getMessage() + ")", e); // a folder named like an image, say
        }
        if (PngChunks.isPng(head, headLen)) PngChunks.verify(file);
        BufferedImage im;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new DataFormatException(file, "not a readable image (no PNG, JPEG, BMP or GIF decoder recognises it)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkSize(file, reader.getWidth(0), reader.getHeight(0), size, pixelsPerByte(reader.getFormatName(), head, headLen));
                im = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (DataFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO reports a damaged stream as IIOException or, for some decoders, a runtime exception.
            throw new DataFormatException(file, "corrupt or unsupported image (" + e.getMessage() + ")", e);
        }
        if (im == null) throw new DataFormatException(file, "not a readable image (no PNG, JPEG, BMP or GIF decoder recognises it)");
        try {
            return convert(im, channels);
        } catch (RuntimeException e) {
            throw new DataFormatException(file, "cannot convert the image's pixels (" + e.getMessage() + ")", e);
        }
    }

    /** The most pixels a byte of this file can stand for ({@link #PIXELS_PER_BYTE}). */
    private static long pixelsPerByte(String format, byte[] head, int headLen) {
        String f = format.toLowerCase(Locale.ROOT);
        if (f.equals("jpg")) f = "jpeg";
        // BMP: compression at byte 30 of the header; 1, 2 (RLE8, RLE4) can skip pixels, 0 and 3 store them all.
        if (f.equals("bmp") && (headLen < 34 || (head[30] != 0 && head[30] != 3) || head[31] != 0)) return MAX_PIXELS_PER_BYTE;
        return PIXELS_PER_BYTE.getOrDefault(f, MAX_PIXELS_PER_BYTE);
    }

    private static void checkSize(Path file, int w, int h, long fileBytes, long perByte) throws DataFormatException {
        long pixels = (long) w * h;
        if (w <= 0 || h <= 0) throw new DataFormatException(file, "header declares a " + w + "×" + h + " image");
        if (pixels > MAX_PIXELS) {
            throw new DataFormatException(file, "header declares a " + w + "×" + h + " image (" + pixels + " pixels), more than the "
                    + MAX_PIXELS + " pixels d2v decodes (a decompression bomb, or resize it first)");
        }
        if (pixels > Math.max(MIN_PIXELS_ANY_FILE, perByte * fileBytes)) {
            throw new DataFormatException(file, "header declares a " + w + "×" + h + " image (" + pixels + " pixels) but the file holds only "
                    + fileBytes + " bytes (corrupt header, or a decompression bomb)");
        }
    }

    /** PIL-like conversion of a decoded image to 1 or 3 channels in [0, 1]. */
    static Decoded convert(BufferedImage im, int channels) {
        int h = im.getHeight(), w = im.getWidth();
        float[] out = new float[h * w * channels];
        ColorModel cm = im.getColorModel();
        if (cm.getNumColorComponents() == 1 && !(cm instanceof java.awt.image.IndexColorModel)) {
            // Grey: read the samples themselves. getRGB would pass them through the JDK's linear-grey
            // to sRGB conversion and brighten them; PIL and torchvision use the stored values.
            Raster r = im.getRaster();
            double max = (1L << cm.getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = (float) (row[x] / max);
                    for (int c = 0; c < channels; c++) out[(y * w + x) * channels + c] = v;
                }
            }
            return new Decoded(h, w, channels, out);
        }
        int[] argb = new int[w];
        for (int y = 0; y < h; y++) {
            im.getRGB(0, y, w, 1, argb, 0, w);
            for (int x = 0; x < w; x++) {
                int p = argb[x], rr = (p >>> 16) & 0xFF, gg = (p >>> 8) & 0xFF, bb = p & 0xFF;
                int at = (y * w + x) * channels;
                if (channels == 3) {
                    out[at] = rr / 255f;
                    out[at + 1] = gg / 255f;
                    out[at + 2] = bb / 255f;
                } else {
                    out[at] = luminance(rr, gg, bb) / 255f;
                }
            }
        }
        return new Decoded(h, w, channels, out);
    }

    /** PIL's "L" conversion of 8-bit RGB (ITU-R 601-2 luma, rounded as PIL rounds). */
    static int luminance(int r, int g, int b) { return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; }
}
