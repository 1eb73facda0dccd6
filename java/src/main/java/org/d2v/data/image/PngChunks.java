package org.d2v.data.image;

import org.d2v.data.DataFormatException;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * The chunk structure of a PNG file, checked before ImageIO decodes it: every chunk's length fits
 * in the file and its CRC-32 matches, and the file reaches IEND. ImageIO's PNG reader skips the
 * CRCs, so a damaged PNG whose pixels still inflate would otherwise be trained on as if it were fine.
 */
final class PngChunks {
    static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private PngChunks() {}

    /** Whether {@code head} starts with the PNG signature. */
    static boolean isPng(byte[] head, int n) {
        if (n < SIGNATURE.length) return false;
        for (int i = 0; i < SIGNATURE.length; i++) if (head[i] != SIGNATURE[i]) return false;
        return true;
    }

    /** Throws naming the file and the chunk when a length or CRC-32 is wrong or IEND is missing. */
    static void verify(Path file) throws IOException {
        long size = Files.size(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16); DataInputStream in = new DataInputStream(raw)) {
            in.skipNBytes(SIGNATURE.length);
            long at = SIGNATURE.length;
            byte[] buf = new byte[1 << 14];
            for (int chunk = 1; ; chunk++) {
                long length = in.readInt() & 0xFFFFFFFFL;
                byte[] type = new byte[4];
                in.readFully(type);
                String name = typeName(type);
                if (length > Integer.MAX_VALUE || at + 12 + length > size) {
                    throw new DataFormatException(file, "truncated or corrupt PNG: chunk " + chunk + " (" + name + ") at byte " + at + " declares "
                            + length + " bytes but the file holds " + size);
                }
                CRC32 crc = new CRC32();
                crc.update(type);
                for (long left = length; left > 0; ) {
                    int n = (int) Math.min(buf.length, left);
                    in.readFully(buf, 0, n);
                    crc.update(buf, 0, n);
                    left -= n;
                }
                long stored = in.readInt() & 0xFFFFFFFFL;
                if (stored != crc.getValue()) {
                    throw new DataFormatException(file, String.format("corrupt PNG: CRC-32 mismatch in chunk %d (%s) at byte %d: stored %08x, computed %08x",
                            chunk, name, at, stored, crc.getValue()));
                }
                at += 12 + length;
                if (name.equals("IEND")) return;
            }
        } catch (EOFException e) {
            throw new DataFormatException(file, "truncated PNG: the file ends before its IEND chunk");
        }
    }

    private static String typeName(byte[] type) {
        StringBuilder b = new StringBuilder();
        for (byte t : type) b.append(t >= 'A' && t <= 'z' ? (char) t : '?');
        return b.toString();
    }
}
