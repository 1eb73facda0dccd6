package org.d2v.data.audio;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A RIFF/WAVE reader for what d2v trains on: mono, 16-bit PCM or 32-bit IEEE float samples (plain
 * or WAVE_FORMAT_EXTENSIBLE), at a given rate (16 kHz for everything d2v uses). Anything else —
 * 8/24-bit PCM, stereo, another rate — is rejected with the file and the reason rather than
 * converted silently (a wrong rate would quietly change what a frame means; there is no resampler).
 * {@link #info} reads only the header, so an index of a large folder costs one small read per file,
 * and {@link #read(Path, Info, long, int)} reads just a window of a long recording.
 */
public final class Wav {
    public static final int RATE = 16_000;
    private static final int PCM = 1, FLOAT = 3, EXTENSIBLE = 0xFFFE;
    private static final int HEADER_PROBE = 1 << 16;

    private Wav() {}

    /** Where a WAV file's samples are: their format, count and byte offset. */
    public record Info(Path file, int rate, boolean isFloat, long samples, long dataOffset) {
        int bytesPerSample() { return isFloat ? 4 : 2; }
    }

    /** Reads a 16 kHz mono WAV (16-bit PCM or 32-bit float) as samples, PCM scaled to [-1, 1). */
    public static float[] read(Path file) throws IOException {
        return read(file, RATE);
    }

    /** Reads a mono WAV recorded at {@code expectedRate}. */
    public static float[] read(Path file, int expectedRate) throws IOException {
        Info info = info(file, expectedRate);
        if (info.samples() > Integer.MAX_VALUE) throw new DataFormatException(file, info.samples() + " samples: too long to read at once");
        return read(file, info, 0, (int) info.samples());
    }

    /** The header of a 16 kHz mono WAV, checked. */
    public static Info info(Path file) throws IOException { return info(file, RATE); }

    /** The header of a mono WAV at {@code expectedRate}, checked (format, channels, rate, data size). */
    public static Info info(Path file, int expectedRate) throws IOException {
        long fileSize;
        ByteBuffer b;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            fileSize = ch.size();
            b = ByteBuffer.allocate((int) Math.min(fileSize, HEADER_PROBE)).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) > 0) { /* fill */ }
            b.flip();
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, "no such file");
        }
        if (b.remaining() < 12 || b.getInt(0) != 0x46464952 /* RIFF */ || b.getInt(8) != 0x45564157 /* WAVE */) {
            throw new DataFormatException(file, "not a WAV file (no RIFF/WAVE header)");
        }
        long pos = 12;
        Integer rate = null;
        boolean isFloat = false;
        while (pos + 8 <= fileSize) {
            if (pos + 8 > b.limit()) throw new DataFormatException(file, "no data chunk in the first " + HEADER_PROBE + " bytes");
            int id = b.getInt((int) pos);
            long size = b.getInt((int) pos + 4) & 0xFFFFFFFFL;
            String name = chunkName(id);
            long body = pos + 8;
            if (name.equals("fmt ")) {
                if (size < 16 || body + size > b.limit()) throw new DataFormatException(file, "truncated fmt chunk");
                int at = (int) body;
                int format = b.getShort(at) & 0xFFFF;
                int channels = b.getShort(at + 2) & 0xFFFF;
                int r = b.getInt(at + 4);
                int bits = b.getShort(at + 14) & 0xFFFF;
                if (format == EXTENSIBLE && size >= 26) format = b.getShort(at + 24) & 0xFFFF; // sub-format GUID's first word
                if (format != PCM && format != FLOAT) throw new DataFormatException(file, "format tag " + format + "; expected PCM (1) or IEEE float (3)");
                if (channels != 1) throw new DataFormatException(file, channels + " channels; expected mono (convert: sox in.wav -c 1 out.wav)");
                if (format == PCM && bits != 16) {
                    throw new DataFormatException(file, bits + "-bit PCM samples; expected 16-bit PCM or 32-bit float (convert: sox in.wav -b 16 out.wav)");
                }
                if (format == FLOAT && bits != 32) throw new DataFormatException(file, bits + "-bit float samples; expected 32-bit float");
                if (r != expectedRate) {
                    throw new DataFormatException(file, "sample rate " + r + " Hz; expected " + expectedRate + " Hz (convert: sox in.wav -r "
                            + expectedRate + " out.wav)");
                }
                rate = r;
                isFloat = format == FLOAT;
            } else if (name.equals("data")) {
                if (rate == null) throw new DataFormatException(file, "data chunk before fmt chunk");
                int per = isFloat ? 4 : 2;
                if (body + size > fileSize) {
                    throw new DataFormatException(file, "truncated: data chunk declares " + size + " bytes but only " + (fileSize - body) + " follow");
                }
                if (size % per != 0) throw new DataFormatException(file, "data chunk has " + size + " bytes, not a whole number of " + per + "-byte samples");
                return new Info(file, rate, isFloat, size / per, body);
            }
            pos = body + size + (size & 1); // RIFF pads odd chunks to even length
        }
        throw new DataFormatException(file, rate != null ? "truncated: no data chunk" : "no fmt chunk");
    }

    /** {@code count} samples from sample {@code start} of the file {@code info} describes. */
    public static float[] read(Path file, Info info, long start, int count) throws IOException {
        if (start < 0 || count < 0 || start + count > info.samples()) {
            throw new DataFormatException(file, "samples [" + start + ", " + (start + count) + ") outside the " + info.samples() + " the file holds");
        }
        int per = info.bytesPerSample();
        if (count > (Integer.MAX_VALUE - 8) / per) throw new DataFormatException(file, count + " samples: too many to read at once");
        ByteBuffer b = ByteBuffer.allocate(count * per).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long at = info.dataOffset() + start * per;
            while (b.hasRemaining()) {
                int n = ch.read(b, at + b.position());
                if (n < 0) throw new DataFormatException(file, "truncated: the file ended inside its data chunk (changed since it was indexed?)");
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, "no such file (removed since it was indexed?)");
        }
        b.flip();
        float[] out = new float[count];
        if (info.isFloat()) {
            for (int i = 0; i < count; i++) {
                out[i] = b.getFloat();
                // NaN or infinity in a float WAV would reach the model as a non-finite loss; refuse it here, where the file is known.
                if (!Float.isFinite(out[i])) throw new DataFormatException(file, "sample " + (start + i) + " is " + out[i] + ", not a finite number");
            }
        } else for (int i = 0; i < count; i++) out[i] = b.getShort() / 32768f;
        return out;
    }

    /** Writes mono 16-bit PCM (samples clipped to [-1, 1]). */
    public static void write(Path file, float[] samples, int rate) throws IOException {
        writeRaw(file, samples, rate, PCM, 16, 1);
    }

    /** Writes a WAV of any of the layouts the tests need: PCM (8/16 bit) or float (32 bit), 1 or more identical channels. */
    public static void writeRaw(Path file, float[] samples, int rate, int format, int bits, int channels) throws IOException {
        int per = bits / 8, block = per * channels;
        ByteBuffer b = ByteBuffer.allocate(44 + samples.length * block).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46464952).putInt(36 + samples.length * block).putInt(0x45564157);
        b.putInt(0x20746d66).putInt(16).putShort((short) format).putShort((short) channels).putInt(rate).putInt(rate * block)
                .putShort((short) block).putShort((short) bits);
        b.putInt(0x61746164).putInt(samples.length * block);
        for (float s : samples) {
            for (int c = 0; c < channels; c++) {
                if (format == FLOAT) b.putFloat(s);
                else if (bits == 8) b.put((byte) (Math.max(-128, Math.min(127, Math.round(s * 128f))) + 128));
                else b.putShort((short) Math.max(-32768, Math.min(32767, Math.round(s * 32768f))));
            }
        }
        Files.write(file, b.array());
    }

    private static String chunkName(int id) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) {
            int ch = (id >>> (8 * i)) & 0xFF;
            c[i] = ch >= 32 && ch < 127 ? (char) ch : '?';
        }
        return new String(c);
    }
}
