package org.d2v.data.image;

import org.d2v.data.DataFormatException;
import org.d2v.data.GzipInput;

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
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

/**
 * The IDX format of (Fashion-)MNIST: a big-endian header (magic 2051 = unsigned-byte 3-D images,
 * 2049 = unsigned-byte 1-D labels, then the dimensions) followed by the raw bytes. Files may be
 * gzipped (detected by the gzip magic, not by the name; read strictly by {@link GzipInput}). The
 * sizes in the header are checked against the bytes there before anything is allocated.
 */
public final class Idx {
    public static final int IMAGES_MAGIC = 2051;
    public static final int LABELS_MAGIC = 2049;
    private static final int IMAGES_HEADER = 16, LABELS_HEADER = 8;

    private Idx() {}

    /** Reads an images file as (n, rows, cols, 1) floats in [0, 1]. */
    public static Images readImages(Path file) throws IOException {
        try (Source in = open(file)) {
            int magic = header(in, "magic number");
            if (magic != IMAGES_MAGIC) {
                throw new DataFormatException(file, "not an IDX images file: magic " + magic + ", expected " + IMAGES_MAGIC
                        + (magic == LABELS_MAGIC ? " (this is a labels file)" : ""));
            }
            int n = header(in, "image count");
            int rows = header(in, "row count");
            int cols = header(in, "column count");
            if (n < 0 || rows <= 0 || cols <= 0) throw new DataFormatException(file, "bad dimensions " + n + "x" + rows + "x" + cols);
            // n·rows fits a long; times cols may not (three ints of ~2^31 wrap around to a small product): saturate instead.
            long perRow = (long) n * rows;
            long body = perRow > Long.MAX_VALUE / cols ? Long.MAX_VALUE : perRow * cols;
            byte[] raw = in.body(body, n + " images of " + rows + "×" + cols, IMAGES_HEADER, 5); // a byte and a float a pixel
            float[] pixels = new float[raw.length];
            for (int i = 0; i < raw.length; i++) pixels[i] = (raw[i] & 0xFF) / 255f;
            return new Images(n, rows, cols, 1, pixels);
        }
    }

    /** Reads a labels file. */
    public static int[] readLabels(Path file) throws IOException {
        try (Source in = open(file)) {
            int magic = header(in, "magic number");
            if (magic != LABELS_MAGIC) {
                throw new DataFormatException(file, "not an IDX labels file: magic " + magic + ", expected " + LABELS_MAGIC
                        + (magic == IMAGES_MAGIC ? " (this is an images file)" : ""));
            }
            int n = header(in, "label count");
            if (n < 0) throw new DataFormatException(file, "bad label count " + n);
            byte[] raw = in.body(n, n + " labels", LABELS_HEADER, 5); // a byte and an int a label
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

    private static Source open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file");
        long size = Files.size(file);
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            boolean gzip = GzipInput.isGzip(b0, b1);
            return new Source(file, size, gzip, gzip ? new GzipInput(file, raw) : raw);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static DataOutputStream create(Path file) throws IOException {
        OutputStream os = new BufferedOutputStream(Files.newOutputStream(file));
        if (file.getFileName().toString().endsWith(".gz")) os = new GZIPOutputStream(os);
        return new DataOutputStream(os);
    }

    private static int header(Source in, String what) throws IOException {
        try {
            return in.data.readInt();
        } catch (EOFException e) {
            throw new DataFormatException(in.file, "truncated header: no " + what, e);
        }
    }

    /**
     * An open IDX file, plain or gzipped, with what is known of its size: a plain file's body must
     * be exactly what the header declares; a gzipped one cannot inflate to more than
     * {@link GzipInput#MAX_RATIO} times its size, and is read to its end so that its CRC-32 and
     * length trailer are checked and nothing follows the declared body.
     */
    private static final class Source implements AutoCloseable {
        final Path file;
        final long size;
        final boolean gzip;
        final InputStream stream;
        final DataInputStream data;

        Source(Path file, long size, boolean gzip, InputStream stream) {
            this.file = file;
            this.size = size;
            this.gzip = gzip;
            this.stream = stream;
            this.data = new DataInputStream(stream);
        }

        /**
         * The {@code bytes} after the header, checked first against the file (a plain file must
         * hold exactly them, a gzipped one can hold at most {@link GzipInput#MAX_RATIO} times its
         * size), then against this JVM's memory ({@code memoryPerByte} bytes each once decoded).
         */
        byte[] body(long bytes, String what, int headerBytes, int memoryPerByte) throws IOException {
            long declared = bytes > Long.MAX_VALUE - headerBytes ? Long.MAX_VALUE : headerBytes + bytes;
            String shown = declared == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE + " bytes" : declared + " bytes";
            if (!gzip && declared != this.size) {
                throw new DataFormatException(file, (declared > this.size ? "truncated: " : "") + "header declares " + what + " (" + shown
                        + ") but the file holds " + this.size + " bytes" + (declared < this.size ? " (data after the declared body)" : ""));
            }
            if (gzip && declared > GzipInput.MAX_RATIO * this.size + 64) {
                throw new DataFormatException(file, "header declares " + what + " (" + shown + ") but a gzip file of " + this.size
                        + " bytes inflates to at most about " + GzipInput.MAX_RATIO * this.size + " bytes");
            }
            long max = Runtime.getRuntime().maxMemory();
            if (bytes > Integer.MAX_VALUE - 8 || bytes > max / memoryPerByte) {
                throw new DataFormatException(file, "header declares " + what + " (" + shown + "): more than one array holds or this JVM's "
                        + (max >> 20) + " MiB can keep decoded (raise -Xmx, or split the file)");
            }
            // Grown as the data arrive, so a gzip stream cut short never costs the declared size in memory.
            byte[] out = new byte[(int) Math.min(bytes, 1 << 22)];
            int got = 0;
            while (got < bytes) {
                if (got == out.length) out = Arrays.copyOf(out, (int) Math.min(bytes, 2L * out.length));
                int n = data.read(out, got, out.length - got);
                if (n < 0) {
                    throw new DataFormatException(file, "truncated: header declares " + what + " (" + shown + ") but the "
                            + (gzip ? "gzip data hold " : "file holds ") + (headerBytes + got) + " bytes");
                }
                got += n;
            }
            if (gzip) ((GzipInput) stream).requireEnd(what);
            return out;
        }

        @Override
        public void close() throws IOException { stream.close(); }
    }
}
