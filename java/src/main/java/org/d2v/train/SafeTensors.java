package org.d2v.train;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.d2v.json.Json;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The safetensors file format, written and read here without a library: an 8-byte little-endian
 * header length N, N bytes of JSON {@code {name: {"dtype": "F32"|"F64"|"BF16"|"I32", "shape": [...],
 * "data_offsets": [begin, end]}, "__metadata__": {string: string}}} padded with spaces to a
 * multiple of 8, then the raw little-endian data of every tensor back to back.
 */
public final class SafeTensors {
    static final int CHUNK = 1 << 16;
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {}

    /** What the header says about one tensor; begin/end are byte offsets into the data section. */
    public record Info(String name, DType dtype, Shape shape, long begin, long end) {}

    /** A failure while writing (used by tests to simulate a crash in the middle of a file). */
    interface WriteHook {
        void afterTensor(String name) throws IOException;
    }

    /**
     * Writes {@code tensors} (sorted by name) to {@code file}, downloading one tensor at a time, and
     * fsyncs it. Returns the sha256 of the whole file in hex. A NaN or an infinity in a floating
     * tensor stops the write with {@link NonFiniteTensorException} naming it: d2v never saves
     * non-finite weights (the file is left incomplete for the caller to remove).
     */
    public static String write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        return write(file, tensors, metadata, name -> {});
    }

    static String write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, WriteHook hook) throws IOException {
        Map<String, Tensor> sorted = new TreeMap<>(tensors);
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            long bytes = t.numel() * t.dtype().bytes();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().name());
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape().dims()) shape.add((long) d);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), info);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        MessageDigest sha = sha256();
        try (FileOutputStream fos = new FileOutputStream(file.toFile());
             OutputStream out = new DigestOutputStream(new BufferedOutputStream(fos, 1 << 20), sha)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(json);
            for (int i = json.length; i < padded; i++) out.write(' ');
            for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
                writeData(e.getKey(), e.getValue(), out);
                hook.afterTensor(e.getKey());
            }
            out.flush();
            fos.getFD().sync();
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Downloads and writes one tensor in chunks, so a large flat buffer never needs one huge host array. */
    private static void writeData(String name, Tensor t, OutputStream out) throws IOException {
        DType dt = t.dtype();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK * dt.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        long n = t.numel();
        for (long at = 0; at < n; at += CHUNK) {
            int len = (int) Math.min(CHUNK, n - at);
            Tensor part = t.view(at, Shape.of(len));
            if (dt == DType.I32) {
                for (int v : part.toInts()) buf.putInt(v);
            } else {
                double[] values = part.toDoubles();
                for (int i = 0; i < len; i++) {
                    double v = values[i];
                    if (!Double.isFinite(v)) throw new NonFiniteTensorException(name, at + i, v);
                    if (dt == DType.F32) buf.putFloat((float) v);
                    else if (dt == DType.BF16) buf.putShort(Bf16.bits((float) v));
                    else buf.putDouble(v);
                }
            }
            flush(buf, out);
        }
    }

    private static void flush(ByteBuffer buf, OutputStream out) throws IOException {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
    }

    /** The sha256 of a file in hex, streamed. */
    public static String sha256(Path file) throws IOException {
        MessageDigest sha = sha256();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            while (ch.read(buf) > 0) {
                buf.flip();
                sha.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** An open, header-validated safetensors file; tensors are read on demand. */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, Info> infos;
        private final Map<String, String> metadata;

        private Reader(Path file, FileChannel channel, long dataStart, Map<String, Info> infos, Map<String, String> metadata) {
            this.file = file;
            this.channel = channel;
            this.dataStart = dataStart;
            this.infos = infos;
            this.metadata = metadata;
        }

        public Map<String, Info> tensors() { return Collections.unmodifiableMap(infos); }

        public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

        /** The values of a floating or integer tensor, as doubles (I32 values are exact). */
        public double[] read(String name) throws IOException {
            long n = info(name).shape().numel();
            if (n > Integer.MAX_VALUE) throw new CheckpointException(file, "tensor '" + name + "' is too large to read into one array");
            return read(name, 0, (int) n);
        }

        /** Elements [from, from + count) of a tensor, as doubles. */
        public double[] read(String name, long from, int count) throws IOException {
            Info info = info(name);
            if (from < 0 || count < 0 || from + count > info.shape().numel()) {
                throw new IllegalArgumentException("elements [" + from + ", " + (from + count) + ") outside tensor '" + name + "' " + info.shape());
            }
            double[] out = new double[count];
            int width = info.dtype().bytes();
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * width).order(ByteOrder.LITTLE_ENDIAN);
            long pos = dataStart + info.begin() + from * width;
            int i = 0;
            while (i < out.length) {
                buf.clear();
                buf.limit((int) Math.min((long) buf.capacity(), (long) (out.length - i) * width));
                while (buf.hasRemaining()) {
                    int got = channel.read(buf, pos);
                    if (got < 0) throw new CheckpointException(file, "truncated while reading tensor '" + name + "'");
                    pos += got;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out[i++] = switch (info.dtype()) {
                        case F32 -> buf.getFloat();
                        case BF16 -> Bf16.value(buf.getShort());
                        case F64 -> buf.getDouble();
                        case I32 -> buf.getInt();
                    };
                }
            }
            return out;
        }

        private Info info(String name) throws CheckpointException {
            Info info = infos.get(name);
            if (info == null) throw new CheckpointException(file, "missing tensor '" + name + "'");
            return info;
        }

        @Override
        public void close() throws IOException { channel.close(); }
    }

    /** Opens {@code file} and validates its header against the file size; clear errors name the file. */
    public static Reader open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "file is missing");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) throw new CheckpointException(file, "bad header: file has " + size + " bytes, too short for the 8-byte header length");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.flip().getLong();
            if (n <= 0 || n > MAX_HEADER || n > size - 8) {
                throw new CheckpointException(file, "bad header: header length " + n + " does not fit in a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8)); // depth, lengths bounded there
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "bad header: " + e.getMessage());
            }
            if (!(parsed instanceof Map<?, ?> header)) throw new CheckpointException(file, "bad header: not a JSON object");
            long dataBytes = size - 8 - n;
            Map<String, Info> infos = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> m)) throw new CheckpointException(file, "bad header: __metadata__ is not an object");
                    m.forEach((k, v) -> metadata.put(String.valueOf(k), String.valueOf(v)));
                    continue;
                }
                infos.put(name, info(file, name, e.getValue(), dataBytes));
            }
            long expected = 0;
            List<Info> byOffset = new ArrayList<>(infos.values());
            byOffset.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            for (Info info : byOffset) {
                if (info.begin() != expected) {
                    throw new CheckpointException(file, "bad header: tensor '" + info.name() + "' starts at byte " + info.begin() + ", expected " + expected + " (gap or overlap)");
                }
                expected = info.end();
            }
            long dataStart = 8 + n;
            if (size != dataStart + expected) {
                throw new CheckpointException(file, "size mismatch: the header describes " + (dataStart + expected)
                        + " bytes but the file has " + size + (size < dataStart + expected ? " (truncated)" : " (trailing data)"));
            }
            return new Reader(file, ch, dataStart, infos, metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static Info info(Path file, String name, Object value, long dataBytes) throws CheckpointException {
        if (!(value instanceof Map<?, ?> m)) throw new CheckpointException(file, "bad header: entry '" + name + "' is not an object");
        DType dtype;
        try {
            dtype = DType.valueOf(String.valueOf(m.get("dtype")));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "bad header: tensor '" + name + "' has unsupported dtype " + m.get("dtype") + " (F32, F64, BF16, I32)");
        }
        if (!(m.get("shape") instanceof List<?> dims) || !(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2) {
            throw new CheckpointException(file, "bad header: tensor '" + name + "' needs a shape list and two data_offsets");
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new CheckpointException(file, "bad header: tensor '" + name + "' has a bad dimension " + dims.get(i));
            }
            shape[i] = (int) (long) d;
        }
        if (!(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
            throw new CheckpointException(file, "bad header: tensor '" + name + "' has non-integer data_offsets");
        }
        Shape s = Shape.of(shape);
        if (begin < 0 || end < begin) throw new CheckpointException(file, "bad header: tensor '" + name + "' has data_offsets [" + begin + ", " + end + "]");
        if (end > dataBytes) {
            throw new CheckpointException(file, "size mismatch: tensor '" + name + "' ends at data byte " + end + " but the file holds "
                    + dataBytes + " data bytes (truncated)");
        }
        long bytes = dtype.bytes();
        for (int d : shape) {
            // Exact: a shape whose product wraps around could otherwise match a small span.
            bytes = d == 0 ? 0 : bytes > dataBytes / d ? Long.MAX_VALUE : bytes * d;
        }
        if (bytes != end - begin) {
            throw new CheckpointException(file, "bad header: tensor '" + name + "' " + dtype + s + " needs "
                    + (bytes == Long.MAX_VALUE ? "more than " + dataBytes : String.valueOf(bytes)) + " bytes but data_offsets span " + (end - begin));
        }
        return new Info(name, dtype, s, begin, end);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int got = ch.read(buf, pos);
            if (got < 0) throw new IOException("unexpected end of file");
            pos += got;
        }
    }
}
