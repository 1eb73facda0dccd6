package org.d2v.data.image;

import org.d2v.data.DataFormatException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of (Fashion-)MNIST: a big-endian header (magic 2051 = unsigned-byte 3-D images,
 * 2049 = unsigned-byte 1-D labels, then the dimensions) followed by the raw bytes. Files may be
 * gzipped (detected by the gzip magic, not by the name).
 */
public final class Idx {
    public static final int IMAGES_MAGIC = 2051;
    public static final int LABELS_MAGIC = 2049;

    private Idx() {}

    /** Reads an images file as (n, rows, cols, 1) floats in [0, 1]. */
    public static Images readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = header(in, file, "magic number");
            if (magic != IMAGES_MAGIC) {
                throw new DataFormatException(file, "not an IDX images file: magic " + magic + ", expected " + IMAGES_MAGIC
                        + (magic == LABELS_MAGIC ? " (this is a labels file)" : ""));
            }
            int n = header(in, file, "image count");
            int rows = header(in, file, "row count");
            int cols = header(in, file, "column count");
            if (n < 0 || rows <= 0 || cols <= 0 || (long) n * rows * cols > Integer.MAX_VALUE) {
                throw new DataFormatException(file, "bad dimensions " + n + "x" + rows + "x" + cols);
            }
            byte[] raw = new byte[n * rows * cols];
            readBody(in, raw, file, n + " images of " + rows + "x" + cols);
            float[] pixels = new float[raw.length];
            for (int i = 0; i < raw.length; i++) pixels[i] = (raw[i] & 0xFF) / 255f;
            return new Images(n, rows, cols, 1, pixels);
        }
    }

    /** Reads a labels file. */
    public static int[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = header(in, file, "magic number");
            if (magic != LABELS_MAGIC) {
                throw new DataFormatException(file, "not an IDX labels file: magic " + magic + ", expected " + LABELS_MAGIC
                        + (magic == IMAGES_MAGIC ? " (this is an images file)" : ""));
            }
            int n = header(in, file, "label count");
            if (n < 0) throw new DataFormatException(file, "bad label count " + n);
            byte[] raw = new byte[n];
            readBody(in, raw, file, n + " labels");
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = raw[i] & 0xFF;
            return labels;
        }
    }

    /** Reads an images file and its labels file, checking that the counts agree and labels fit. */
    public static LabeledImages read(Path images, Path labels, int classes) throws IOException {
        Images im = readImages(images);
        int[] lb = readLabels(labels);
        if (im.count() != lb.length) {
            throw new DataFormatException(labels, lb.length + " labels but " + images + " has " + im.count() + " images");
        }
        for (int i = 0; i < lb.length; i++) {
            if (lb[i] >= classes) throw new DataFormatException(labels, "label " + lb[i] + " at index " + i + " is not below " + classes);
        }
        return new LabeledImages(im, lb, classes);
    }

    /** Writes single-channel images (values rounded to bytes); gzipped when the name ends in .gz. */
    public static void writeImages(Path file, Images images) throws IOException {
        if (images.channels() != 1) throw new IllegalArgumentException("IDX images are single-channel");
        try (DataOutputStream out = create(file)) {
            out.writeInt(IMAGES_MAGIC);
            out.writeInt(images.count());
            out.writeInt(images.height());
            out.writeInt(images.width());
            for (float v : images.pixels()) out.write(Math.round(Math.max(0f, Math.min(1f, v)) * 255f));
        }
    }

    /** Writes labels (each below 256); gzipped when the name ends in .gz. */
    public static void writeLabels(Path file, int[] labels) throws IOException {
        try (DataOutputStream out = create(file)) {
            out.writeInt(LABELS_MAGIC);
            out.writeInt(labels.length);
            for (int l : labels) out.write(l);
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file");
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read(), b1 = raw.read();
        raw.reset();
        boolean gzip = b0 == 0x1f && b1 == 0x8b;
        try {
            return new DataInputStream(gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw);
        } catch (ZipException | EOFException e) {
            raw.close();
            throw new DataFormatException(file, "corrupt gzip header", e);
        }
    }

    private static DataOutputStream create(Path file) throws IOException {
        OutputStream os = new BufferedOutputStream(Files.newOutputStream(file));
        if (file.getFileName().toString().endsWith(".gz")) os = new GZIPOutputStream(os);
        return new DataOutputStream(os);
    }

    private static int header(DataInputStream in, Path file, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new DataFormatException(file, "truncated header: no " + what, e);
        } catch (ZipException e) {
            throw new DataFormatException(file, "corrupt gzip data", e);
        }
    }

    private static void readBody(DataInputStream in, byte[] into, Path file, String what) throws IOException {
        int got = 0;
        try {
            while (got < into.length) {
                int n = in.read(into, got, into.length - got);
                if (n < 0) break;
                got += n;
            }
        } catch (EOFException e) {
            // A gzip stream cut short throws instead of returning -1: same problem, same message.
        } catch (ZipException e) {
            throw new DataFormatException(file, "corrupt gzip data", e);
        }
        if (got < into.length) {
            throw new DataFormatException(file, "truncated: header promises " + what + " (" + into.length
                    + " bytes) but only " + got + " bytes follow");
        }
    }
}
