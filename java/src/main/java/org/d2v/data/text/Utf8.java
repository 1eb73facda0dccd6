package org.d2v.data.text;

import org.d2v.data.DataFormatException;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Strict UTF-8: a byte sequence that is not UTF-8 is an error naming the file and the byte offset
 * of the first bad byte (never replaced by U+FFFD, which would train on garbage silently). Lines
 * can be streamed, so a one-document-per-line file larger than memory is fine.
 */
public final class Utf8 {
    /** Files read whole (a document, a vocabulary) stop here: beyond it a line-per-document file, or not text at all. */
    public static final long MAX_WHOLE_FILE = 1L << 29;
    /** One line of a streamed file; a longer "line" is a file without line breaks. */
    public static final int MAX_LINE = 1 << 28;

    private Utf8() {}

    /** Receives each line (without its "\n" or "\r\n"), its 1-based number and its byte offset. */
    @FunctionalInterface
    public interface LineSink {
        void line(String text, long number, long offset) throws IOException;
    }

    /** The whole file as text. */
    public static String read(Path file) throws IOException {
        byte[] b = readBytes(file, MAX_WHOLE_FILE);
        return decode(b, b.length, file, 0);
    }

    /** The file's bytes, refused naming the file when it holds more than {@code max}. */
    public static byte[] readBytes(Path file, long max) throws IOException {
        try {
            long size = Files.size(file);
            if (size > max) throw new DataFormatException(file, size + " bytes: larger than the " + max + " this file may have");
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, "no such file");
        }
    }

    /** Every line of the file. */
    public static List<String> readLines(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        forEachLine(file, (s, n, o) -> out.add(s));
        return out;
    }

    /** Streams the file's lines in order. */
    public static void forEachLine(Path file, LineSink sink) throws IOException {
        InputStream raw;
        try {
            raw = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, "no such file");
        }
        try (InputStream in = new BufferedInputStream(raw, 1 << 16)) {
            byte[] line = new byte[256];
            int len = 0;
            long offset = 0, start = 0, number = 0;
            for (int c; (c = in.read()) >= 0; offset++) {
                if (c == '\n') {
                    sink.line(decodeLine(line, len, file, start), ++number, start);
                    len = 0;
                    start = offset + 1;
                } else {
                    if (len == line.length) {
                        if (len >= MAX_LINE) throw new DataFormatException(file, "line " + (number + 1) + " is longer than " + MAX_LINE + " bytes (a file without line breaks?)");
                        line = Arrays.copyOf(line, Math.min(MAX_LINE, len * 2));
                    }
                    line[len++] = (byte) c;
                }
            }
            if (len > 0) sink.line(decodeLine(line, len, file, start), ++number, start);
        }
    }

    private static String decodeLine(byte[] b, int len, Path file, long base) throws DataFormatException {
        if (len > 0 && b[len - 1] == '\r') len--;
        return decode(b, len, file, base);
    }

    /** Decodes b[0, len) strictly; errors give the absolute offset {@code base + position}. */
    static String decode(byte[] b, int len, Path file, long base) throws DataFormatException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b, 0, len);
        CharBuffer out = CharBuffer.allocate(len);
        CoderResult r = d.decode(in, out, true);
        if (r.isUnderflow()) r = d.flush(out);
        if (r.isError()) {
            int at = in.position();
            throw new DataFormatException(file, String.format("not UTF-8 text: invalid byte 0x%02X at byte offset %d", b[at] & 0xFF, base + at));
        }
        return out.flip().toString();
    }
}
