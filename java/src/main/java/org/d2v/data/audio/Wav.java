package org.d2v.data.audio;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small RIFF/WAVE reader for what the speech sets hold: 16-bit PCM, mono, at a given rate
 * (16 kHz for everything d2v uses). Anything else is rejected with the file and the reason,
 * rather than converted silently, because a wrong rate would quietly change what a frame means.
 */
public final class Wav {
    public static final int RATE = 16_000;
    private static final int PCM = 1, EXTENSIBLE = 0xFFFE;

    private Wav() {}

    /** Reads a 16 kHz mono 16-bit WAV as samples in [-1, 1). */
    public static float[] read(Path file) throws IOException {
        return read(file, RATE);
    }

    /** Reads a mono 16-bit WAV recorded at {@code expectedRate} as samples in [-1, 1). */
    public static float[] read(Path file, int expectedRate) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file");
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 12 || b.getInt(0) != 0x46464952 /* RIFF */ || b.getInt(8) != 0x45564157 /* WAVE */) {
            throw new DataFormatException(file, "not a WAV file (no RIFF/WAVE header)");
        }
        b.position(12);
        boolean haveFormat = false;
        while (b.remaining() >= 8) {
            int id = b.getInt();
            long size = b.getInt() & 0xFFFFFFFFL;
            String name = chunkName(id);
            if (name.equals("fmt ")) {
                if (size < 16 || size > b.remaining()) throw new DataFormatException(file, "truncated fmt chunk");
                int start = b.position();
                int format = b.getShort() & 0xFFFF;
                int channels = b.getShort() & 0xFFFF;
                int rate = b.getInt();
                b.getInt(); // byte rate
                b.getShort(); // block align
                int bits = b.getShort() & 0xFFFF;
                if (format == EXTENSIBLE && size >= 26) format = b.getShort(start + 24) & 0xFFFF; // sub-format GUID's first word
                if (format != PCM) throw new DataFormatException(file, "not PCM (format tag " + format + ")");
                if (channels != 1) throw new DataFormatException(file, channels + " channels; expected mono (convert: sox in -c 1 out.wav)");
                if (bits != 16) throw new DataFormatException(file, bits + "-bit samples; expected 16-bit");
                if (rate != expectedRate) {
                    throw new DataFormatException(file, "sample rate " + rate + " Hz; expected " + expectedRate + " Hz (convert: sox in -r "
                            + expectedRate + " out.wav)");
                }
                haveFormat = true;
                b.position(start + (int) size + (int) (size & 1));
            } else if (name.equals("data")) {
                if (!haveFormat) throw new DataFormatException(file, "data chunk before fmt chunk");
                if (size > b.remaining()) {
                    throw new DataFormatException(file, "truncated: data chunk declares " + size + " bytes but only " + b.remaining() + " follow");
                }
                if (size % 2 != 0) throw new DataFormatException(file, "data chunk has an odd byte count " + size + " for 16-bit samples");
                float[] out = new float[(int) (size / 2)];
                for (int i = 0; i < out.length; i++) out[i] = b.getShort() / 32768f;
                return out;
            } else {
                if (size > b.remaining()) throw new DataFormatException(file, "truncated chunk '" + name + "'");
                b.position(b.position() + (int) size);
                if ((size & 1) == 1 && b.hasRemaining()) b.get(); // RIFF pads odd chunks to even length
            }
        }
        throw new DataFormatException(file, haveFormat ? "truncated: no data chunk" : "no fmt chunk");
    }

    /** Writes mono 16-bit PCM (samples clipped to [-1, 1]). */
    public static void write(Path file, float[] samples, int rate) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(44 + samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46464952).putInt(36 + samples.length * 2).putInt(0x45564157);
        b.putInt(0x20746d66).putInt(16).putShort((short) PCM).putShort((short) 1).putInt(rate).putInt(rate * 2)
                .putShort((short) 2).putShort((short) 16);
        b.putInt(0x61746164).putInt(samples.length * 2);
        for (float s : samples) b.putShort((short) Math.max(-32768, Math.min(32767, Math.round(s * 32768f))));
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
