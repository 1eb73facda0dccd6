package org.d2v.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Inflater;

/**
 * Strict gzip (RFC 1952) for data files. java.util.zip.GZIPInputStream checks a member's CRC-32
 * and length trailer only when it is read to the end, and silently ignores whatever follows the
 * last member; this stream checks every member's CRC-32 and ISIZE as the member ends, reads
 * concatenated members as one stream (what {@code cat a.gz b.gz} makes and {@code gzip -d}
 * reads), and refuses any other bytes after the last member. Every problem is a
 * {@link DataFormatException} naming the file and the byte offset. A reader must read to the
 * end ({@code read() == -1}) for the last trailer to be checked: {@link #requireEnd} does that.
 */
public final class GzipInput extends InputStream {
    /** Deflate's best case is about 1032:1 (RFC 1951 limits); more uncompressed bytes than this per file byte cannot be there. */
    public static final long MAX_RATIO = 1032;

    private final Path file;
    private final InputStream in;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private final byte[] buf = new byte[1 << 16];
    private int pos, limit;     // unread input is buf[pos, limit)
    private long consumed;      // file offset of buf[pos]
    private long memberOut;     // bytes the current member has inflated to
    private int member;         // 1-based number of the current member
    private boolean done;

    /** Reads gzip data from {@code in} (positioned at the first member's header). */
    public GzipInput(Path file, InputStream in) throws IOException {
        this.file = file;
        this.in = in;
        header();
    }

    /** Whether the first two bytes of a file are gzip's magic number. */
    public static boolean isGzip(int b0, int b1) { return b0 == 0x1f && b1 == 0x8b; }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        while (!done) {
            if (inflater.finished()) {
                endOfMember();
                continue;
            }
            if (inflater.needsInput()) {
                if (!fill()) throw truncated("the file ends inside the compressed data of member " + member + ", before its CRC-32/length trailer");
                inflater.setInput(buf, pos, limit - pos);
            }
            int n;
            try {
                n = inflater.inflate(b, off, len);
            } catch (java.util.zip.DataFormatException e) {
                throw corrupt("corrupt compressed data in member " + member + " (" + e.getMessage() + ")");
            }
            int used = (limit - pos) - inflater.getRemaining();
            pos += used;
            consumed += used;
            if (inflater.needsDictionary()) throw corrupt("corrupt compressed data in member " + member + " (asks for a preset dictionary)");
            if (n > 0) {
                crc.update(b, off, n);
                memberOut += n;
                return n;
            }
        }
        return -1;
    }

    /** Reads to the end, so every trailer is checked; throws naming the file when data remain. */
    public void requireEnd(String what) throws IOException {
        byte[] b = new byte[1 << 12];
        long extra = 0;
        for (int n; (n = read(b, 0, b.length)) > 0; ) extra += n;
        if (extra > 0) throw new DataFormatException(file, extra + " more bytes after " + what + " (the header does not describe the data)");
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        in.close();
    }

    // ---------------------------------------------------------------- members

    private void header() throws IOException {
        member++;
        long start = consumed;
        CRC32 h = new CRC32();
        int id1 = headerByte(h, start), id2 = headerByte(h, start);
        if (!isGzip(id1, id2)) {
            throw new DataFormatException(file, member == 1 ? "not gzip data (no gzip magic number)"
                    : String.format("%d bytes of trailing garbage after the last gzip member, at byte offset %d", remainingHint(), start));
        }
        int cm = headerByte(h, start), flags = headerByte(h, start);
        if (cm != 8) throw corrupt("member " + member + " uses compression method " + cm + ", not deflate (8)");
        if ((flags & 0xE0) != 0) throw corrupt("member " + member + " sets reserved header flags 0x" + Integer.toHexString(flags));
        for (int i = 0; i < 6; i++) headerByte(h, start); // MTIME, XFL, OS
        if ((flags & 4) != 0) { // FEXTRA
            int xlen = headerByte(h, start) | headerByte(h, start) << 8;
            for (int i = 0; i < xlen; i++) headerByte(h, start);
        }
        if ((flags & 8) != 0) while (headerByte(h, start) != 0) { /* FNAME */ }
        if ((flags & 16) != 0) while (headerByte(h, start) != 0) { /* FCOMMENT */ }
        if ((flags & 2) != 0) { // FHCRC: the low 16 bits of the header's CRC-32
            int expect = (int) (h.getValue() & 0xFFFF);
            int got = headerByte(null, start) | headerByte(null, start) << 8;
            if (got != expect) throw corrupt("header CRC mismatch in member " + member);
        }
        inflater.reset();
        crc.reset();
        memberOut = 0;
    }

    private void endOfMember() throws IOException {
        long at = consumed;
        long storedCrc = trailerInt(at), storedSize = trailerInt(at);
        if (storedCrc != crc.getValue()) {
            throw corrupt(String.format("CRC-32 mismatch in member %d: the trailer says %08x but the data give %08x (a damaged file)", member, storedCrc, crc.getValue()));
        }
        if (storedSize != (memberOut & 0xFFFFFFFFL)) {
            throw corrupt("length mismatch in member " + member + ": the trailer says " + storedSize + " bytes but the data give " + memberOut);
        }
        if (!fill()) {
            done = true;
            return;
        }
        header(); // another member follows (concatenated gzip), or trailing garbage (refused there)
    }

    private long trailerInt(long at) throws IOException {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            if (!fill()) throw truncated("member " + member + " ends at byte offset " + at + " without its complete 8-byte CRC-32/length trailer");
            v |= (long) (buf[pos++] & 0xFF) << (8 * i);
            consumed++;
        }
        return v;
    }

    private int headerByte(CRC32 h, long start) throws IOException {
        if (!fill()) throw truncated("the header of member " + member + " at byte offset " + start + " is cut short");
        int b = buf[pos++] & 0xFF;
        consumed++;
        if (h != null) h.update(b);
        return b;
    }

    /** Ensures unread input; false at the end of the file. */
    private boolean fill() throws IOException {
        if (pos < limit) return true;
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) return false;
        pos = 0;
        limit = n;
        return true;
    }

    private long remainingHint() throws IOException {
        long n = (limit - pos) + 2;
        long skipped;
        while ((skipped = in.skip(1 << 20)) > 0) n += skipped;
        return n;
    }

    private DataFormatException corrupt(String what) {
        return new DataFormatException(file, "corrupt gzip data: " + what);
    }

    private DataFormatException truncated(String what) {
        return new DataFormatException(file, "truncated gzip data: " + what);
    }
}
