package org.d2v.fuzz;

import static org.d2v.fuzz.Oracle.attempt;
import static org.d2v.fuzz.Oracle.require;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data.InstalledSet;
import org.d2v.data.TestData;
import org.d2v.data.audio.AudioIndex;
import org.d2v.data.audio.SpeechSets;
import org.d2v.data.audio.Wav;
import org.d2v.data.image.Idx;
import org.d2v.data.image.ImageFiles;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Gpt2Bpe;
import org.d2v.data.text.TextCorpus;
import org.d2v.data.text.TextFiles;
import org.d2v.data.text.TextSets;
import org.d2v.data.text.TokenFile;
import org.d2v.data.text.Utf8;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.train.SafeTensors;

/**
 * Every reader of outside bytes as a fuzz target: valid seeds made here (or the small committed
 * GPT-2 fixture), the offsets of the size fields worth hitting, and what to call on an input.
 * Each call goes through {@link Oracle#attempt}; an accepted input must also give a usable result
 * (tokenizers round-trip, ids in range, pixels in [0, 1], samples finite).
 */
final class Targets {
    private Targets() {}

    @FunctionalInterface
    interface Body {
        void run(byte[] data, Path dir) throws Exception;
    }

    /** One reader: its seeds (made once), size-field offsets (negative: from the end) and body. */
    static final class Target {
        private final String name;
        private final Supplier<List<byte[]>> seedMaker;
        private final int[] fields;
        private final Body body;
        private List<byte[]> seeds;

        Target(String name, Supplier<List<byte[]>> seedMaker, int[] fields, Body body) {
            this.name = name;
            this.seedMaker = seedMaker;
            this.fields = fields;
            this.body = body;
        }

        String name() { return name; }

        int[] fields() { return fields; }

        synchronized List<byte[]> seeds() {
            if (seeds == null) seeds = List.copyOf(seedMaker.get());
            return seeds;
        }

        void run(byte[] data, Path dir) throws Exception { body.run(data, dir); }

        @Override public String toString() { return name; }
    }

    static final List<Target> ALL = List.of(
            new Target("idx", Targets::idxSeeds, new int[] {4, 8, 12}, (d, dir) -> idx(write(dir, "t-images-idx3-ubyte", d))),
            new Target("idx-gz", Targets::idxSeeds, new int[] {4, 8, 12}, (d, dir) -> idx(write(dir, "t-images-idx3-ubyte.gz", gzip(d)))),
            new Target("gzip", Targets::gzipSeeds, new int[] {3, -8, -4}, (d, dir) -> idx(write(dir, "t-labels-idx1-ubyte.gz", d))),
            new Target("png", () -> images("png"), new int[] {8, 16, 20, 24, 33}, (d, dir) -> image(write(dir, "t.png", d))),
            // The same PNGs with every chunk's CRC recomputed after the mutation: past the CRC check, into the decoder.
            new Target("png-crc-fixed", () -> images("png"), new int[] {8, 16, 20, 24, 33}, (d, dir) -> image(write(dir, "t.png", fixPngCrcs(d)))),
            new Target("jpeg", () -> images("jpeg"), new int[] {}, (d, dir) -> image(write(dir, "t.jpg", d))),
            new Target("bmp", () -> images("bmp"), new int[] {2, 10, 14, 18, 22, 28, 30, 34, 46}, (d, dir) -> image(write(dir, "t.bmp", d))),
            new Target("gif", () -> images("gif"), new int[] {6, 8, 10}, (d, dir) -> image(write(dir, "t.gif", d))),
            new Target("wav", Targets::wavSeeds, new int[] {4, 16, 20, 22, 24, 34, 40}, (d, dir) -> wav(write(dir, "t.wav", d))),
            new Target("manifest", Targets::manifestSeeds, new int[] {}, Targets::manifest),
            new Target("digit-index", Targets::digitIndexSeeds, new int[] {}, (d, dir) -> {
                Path f = write(dir, "index.tsv", d);
                attempt(List.of("index.tsv"), () -> SpeechSets.readDigitIndex(f));
            }),
            new Target("text", Targets::textSeeds, new int[] {}, (d, dir) -> text(write(dir, "t.txt", d))),
            new Target("bpe", Targets::bpeSeeds, new int[] {}, (d, dir) -> bpe(write(dir, "tokenizer-bpe.txt", d))),
            new Target("gpt2-vocab", () -> gpt2Seeds(Gpt2Bpe.VOCAB), new int[] {}, (d, dir) -> gpt2(dir, Gpt2Bpe.VOCAB, d)),
            new Target("gpt2-merges", () -> gpt2Seeds(Gpt2Bpe.MERGES), new int[] {}, (d, dir) -> gpt2(dir, Gpt2Bpe.MERGES, d)),
            new Target("gpt2-dict", () -> gpt2Seeds(Gpt2Bpe.DICT), new int[] {}, (d, dir) -> gpt2(dir, Gpt2Bpe.DICT, d)),
            new Target("safetensors", Targets::safetensorsSeeds, new int[] {0, 4}, (d, dir) -> safetensors(write(dir, "t.safetensors", d))),
            new Target("sentiment-json", Targets::sentimentSeeds, new int[] {}, (d, dir) -> {
                Path f = write(dir, "imdb.json", d);
                attempt(List.of("imdb.json"), () -> require(!TextSets.readSentiment(f, "imdb").isEmpty(), () -> "no sentences"));
            }),
            new Target("token-file", Targets::tokenFileSeeds, new int[] {0, 4, -4}, Targets::tokenFile),
            new Target("set-manifest", () -> setRecordSeeds(InstalledSet.MANIFEST), new int[] {}, Targets::setManifest),
            new Target("set-stamps", () -> setRecordSeeds(InstalledSet.STAMPS), new int[] {}, Targets::setStamps));

    static Target byName(String name) {
        for (Target t : ALL) if (t.name().equals(name)) return t;
        throw new IllegalArgumentException("no fuzz target " + name);
    }

    // ---- bodies ---------------------------------------------------------------------------------

    private static void idx(Path f) {
        List<String> names = List.of(f.getFileName().toString());
        attempt(names, () -> {
            var im = Idx.readImages(f);
            require(im.pixels().length == (long) im.count() * im.height() * im.width(), () -> "pixel count");
        });
        attempt(names, () -> Idx.readLabels(f));
    }

    private static void image(Path f) {
        List<String> names = List.of(f.getFileName().toString());
        for (int channels : new int[] {1, 3}) {
            attempt(names, () -> {
                ImageFiles.Decoded im = ImageFiles.read(f, channels);
                for (float v : im.pixels()) if (!(v >= 0 && v <= 1)) require(false, () -> "pixel " + v + " outside [0, 1]");
            });
        }
    }

    private static void wav(Path f) {
        List<String> names = List.of(f.getFileName().toString());
        attempt(names, () -> {
            for (float s : Wav.read(f)) if (!Float.isFinite(s)) require(false, () -> "sample " + s);
        });
        attempt(names, () -> {
            Wav.Info info = Wav.info(f);
            int n = (int) Math.min(3, info.samples());
            require(Wav.read(f, info, info.samples() - n, n).length == n, () -> "window length");
        });
    }

    private static void manifest(byte[] d, Path dir) throws IOException {
        Wav.write(dir.resolve("a.wav"), new float[] {0, 0.5f, -0.5f, 0.25f, 0, 0.125f}, Wav.RATE);
        Wav.writeRaw(dir.resolve("b.wav"), new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, Wav.RATE, 3, 32, 1);
        Path tsv = write(dir, "m.tsv", d);
        attempt(List.of("m.tsv", "a.wav", "b.wav"), () -> {
            AudioIndex ix = AudioIndex.manifest(tsv);
            for (int i = 0; i < ix.size(); i++) require(ix.samples(i) >= 0, () -> "negative sample count");
        });
    }

    private static void text(Path f) {
        List<String> names = List.of(f.getFileName().toString());
        attempt(names, () -> TextFiles.read(f));
        attempt(names, () -> TextCorpus.lines(f).forEach(doc -> require(!doc.isBlank(), () -> "blank document")));
        attempt(names, () -> Utf8.readLines(f));
    }

    private static void bpe(Path f) {
        attempt(List.of(f.getFileName().toString()), () -> {
            BpeTokenizer t = BpeTokenizer.load(f);
            String s = "hello wörld, 123 ☃!";
            int[] ids = t.encode(s);
            for (int id : ids) if (id < 0 || id >= t.vocabSize()) require(false, () -> "id " + id + " of " + t.vocabSize());
            require(t.decode(ids).equals(s), () -> "round trip");
        });
    }

    private static void gpt2(Path dir, String mutated, byte[] d) throws IOException {
        Path g = Files.createDirectories(dir.resolve("gpt2"));
        for (String f : new String[] {Gpt2Bpe.VOCAB, Gpt2Bpe.MERGES, Gpt2Bpe.DICT}) Files.write(g.resolve(f), f.equals(mutated) ? d : gpt2Seeds(f).get(0));
        attempt(List.of("gpt2", Gpt2Bpe.VOCAB, Gpt2Bpe.MERGES, Gpt2Bpe.DICT), () -> {
            Gpt2Bpe t = Gpt2Bpe.load(g);
            int[] ids = t.encode("Hello world, it's 2024! ünï ☃");
            for (int id : ids) if (id < 0 || id >= t.vocabSize()) require(false, () -> "id " + id + " of " + t.vocabSize());
            t.decode(ids);
        });
    }

    private static void safetensors(Path f) {
        attempt(List.of(f.getFileName().toString()), () -> {
            try (SafeTensors.Reader r = SafeTensors.open(f)) {
                for (SafeTensors.Info info : r.tensors().values()) require(r.read(info.name()).length == info.shape().numel(), () -> "length");
            }
        });
    }

    private static final String TOKEN_TEXT = "the cat sat on the mat. the dog sat on the log.\n";

    private static void tokenFile(byte[] d, Path dir) throws IOException {
        Path corpus = write(dir, "corpus.txt", TOKEN_TEXT.getBytes(StandardCharsets.UTF_8));
        BpeTokenizer tok = smallBpe();
        try (TokenFile tf = TokenFile.write(TextCorpus.lines(corpus), tok)) {
            Files.write(tf.file(), d); // the bytes on disk changed under the reader
            attempt(List.of(tf.file().getFileName().toString()), () -> {
                for (long at = 0; at < tf.tokens(); at += 3) {
                    for (int id : tf.read(at, (int) Math.min(3, tf.tokens() - at))) if (id < 0 || id >= tok.vocabSize()) require(false, () -> "token id " + id);
                }
            });
        }
    }

    /** A small installed set: two files with fixed contents and times, so their stamps can match. */
    private static Path installedSet(Path dir) throws IOException {
        Path set = Files.createDirectories(dir.resolve("set"));
        Files.createDirectories(set.resolve("sub"));
        for (String[] f : new String[][] {{"a.bin", "\u0001\u0002binary"}, {"sub/b.txt", "text file\n"}}) {
            Path p = set.resolve(f[0]);
            Files.writeString(p, f[1]);
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        }
        return set;
    }

    private static void setManifest(byte[] d, Path dir) throws IOException {
        Path set = installedSet(dir);
        Files.deleteIfExists(set.resolve(InstalledSet.STAMPS));
        write(set, InstalledSet.MANIFEST, d);
        List<String> names = List.of(InstalledSet.MANIFEST, "a.bin", "b.txt", "set");
        attempt(names, () -> InstalledSet.verify(set, InstalledSet.Mode.QUICK));
        attempt(names, () -> InstalledSet.verify(set, InstalledSet.Mode.FULL));
    }

    private static void setStamps(byte[] d, Path dir) throws IOException {
        Path set = installedSet(dir);
        write(set, InstalledSet.MANIFEST, byName("set-manifest").seeds().get(0));
        write(set, InstalledSet.STAMPS, d);
        // The files are intact: whatever the stamps say, the check must pass (they are only a cache).
        attempt(List.of(), () -> InstalledSet.verify(set, InstalledSet.Mode.QUICK));
    }

    private static List<byte[]> setRecordSeeds(String which) {
        try {
            Path t = Files.createTempDirectory("d2v-fuzz-");
            try {
                Path set = installedSet(t);
                InstalledSet.record(set);
                return List.of(Files.readAllBytes(set.resolve(which)));
            } finally {
                org.d2v.data.TestFiles.deleteTree(t);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- seeds ----------------------------------------------------------------------------------

    private static List<byte[]> idxSeeds() {
        return List.of(idxImages(2, 3, 4), idxImages(1, 1, 1), idxImages(0, 28, 28), idxLabels(new int[] {0, 3, 9, 1, 255}));
    }

    private static byte[] idxImages(int n, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols).putInt(Idx.IMAGES_MAGIC).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n * rows * cols; i++) b.put((byte) (i * 37));
        return b.array();
    }

    private static byte[] idxLabels(int[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length).putInt(Idx.LABELS_MAGIC).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    private static List<byte[]> gzipSeeds() {
        byte[] labels = idxLabels(new int[] {1, 2, 3});
        byte[] a = gzip(labels), b = gzip(idxImages(1, 2, 2));
        // One stream in two members, as `cat a.gz b.gz` makes it.
        byte[] head = gzip(java.util.Arrays.copyOf(labels, 9)), tail = gzip(java.util.Arrays.copyOfRange(labels, 9, labels.length));
        byte[] two = new byte[head.length + tail.length];
        System.arraycopy(head, 0, two, 0, head.length);
        System.arraycopy(tail, 0, two, head.length, tail.length);
        return List.of(a, b, two);
    }

    static byte[] gzip(byte[] raw) { return org.d2v.data.TestFiles.gzip(raw); }

    private static List<byte[]> images(String format) {
        List<byte[]> out = new ArrayList<>();
        int[] types = {BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_ARGB,
                BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_USHORT_GRAY, BufferedImage.TYPE_BYTE_BINARY};
        for (int type : types) {
            BufferedImage im = new BufferedImage(5, 4, type);
            for (int y = 0; y < 4; y++) for (int x = 0; x < 5; x++) im.setRGB(x, y, 0xFF000000 | (x * 50) << 16 | (y * 60) << 8 | (x * y * 10));
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try {
                if (ImageIO.write(im, format, b)) out.add(b.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (out.isEmpty()) throw new IllegalStateException("ImageIO writes no " + format);
        return out;
    }

    private static List<byte[]> wavSeeds() {
        List<byte[]> out = new ArrayList<>();
        try {
            Path t = Files.createTempFile("d2v-fuzz-", ".wav");
            try {
                Wav.write(t, new float[] {0, 0.5f, -0.5f, 0.25f, -1, 0.999f}, Wav.RATE);
                byte[] pcm = Files.readAllBytes(t);
                out.add(pcm);
                Wav.writeRaw(t, new float[] {0.1f, -0.2f, 0.3f}, Wav.RATE, 3, 32, 1);
                out.add(Files.readAllBytes(t));
                // A LIST chunk (odd length, padded) before fmt, as many tools write.
                ByteBuffer b = ByteBuffer.allocate(pcm.length + 14).order(ByteOrder.LITTLE_ENDIAN);
                b.put(pcm, 0, 12).putInt(0x5453494C).putInt(5).put("INFOx".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).put(pcm, 12, pcm.length - 12);
                b.putInt(4, pcm.length + 14 - 8);
                out.add(b.array());
                out.add(extensible());
            } finally {
                Files.deleteIfExists(t);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** WAVE_FORMAT_EXTENSIBLE with the PCM sub-format, 2 samples. */
    private static byte[] extensible() {
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + 40 + 8 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46464952).putInt(b.capacity() - 8).putInt(0x45564157);
        b.putInt(0x20746d66).putInt(40).putShort((short) 0xFFFE).putShort((short) 1).putInt(Wav.RATE).putInt(Wav.RATE * 2)
                .putShort((short) 2).putShort((short) 16).putShort((short) 22).putShort((short) 16).putInt(4).putShort((short) 1)
                .put(new byte[14]);
        b.putInt(0x61746164).putInt(4).putShort((short) 1000).putShort((short) -1000);
        return b.array();
    }

    private static List<byte[]> manifestSeeds() {
        return List.of(utf8(".\na.wav\t6\nb.wav\t5\n"), utf8(".\r\na.wav\t6\r\n"), utf8(".\nb.wav\t5\n\n"));
    }

    private static List<byte[]> digitIndexSeeds() {
        return List.of(utf8("espeak/en+m1/3_s130-p35.wav\t3\tespeak\tespeak/en+m1\ts130-p35\n# comment\nflite/slt/0_d1.0-f95.wav\t0\tflite\tflite/slt\td1.0-f95\n"));
    }

    private static List<byte[]> textSeeds() {
        return List.of(utf8("The jury said it did find that.\nSecond document\r\n"), utf8("héllo wörld ☃ 😀 日本語\n\nnext"), utf8("x"));
    }

    private static BpeTokenizer small;

    private static synchronized BpeTokenizer smallBpe() {
        if (small == null) small = BpeTokenizer.train(List.of(TOKEN_TEXT, "hello world, hello wörld 123 123", "the theme of the thesis"), BpeTokenizer.FIRST_MERGE + 24);
        return small;
    }

    private static List<byte[]> bpeSeeds() {
        try {
            Path t = Files.createTempFile("d2v-fuzz-", ".txt");
            try {
                smallBpe().save(t);
                return List.of(Files.readAllBytes(t));
            } finally {
                Files.deleteIfExists(t);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Map<String, List<byte[]>> GPT2 = new java.util.concurrent.ConcurrentHashMap<>();

    private static List<byte[]> gpt2Seeds(String file) {
        return GPT2.computeIfAbsent(file, f -> {
            try {
                return List.of(Files.readAllBytes(TestData.file("gpt2-bpe/" + f)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static List<byte[]> safetensorsSeeds() {
        List<byte[]> out = new ArrayList<>();
        try (ReferenceDevice device = new ReferenceDevice()) {
            Map<String, Tensor> a = new LinkedHashMap<>();
            a.put("w", Tensor.of(device, DType.F32, Shape.of(2, 3), new double[] {1, -2, 3.5, 0, 1e-3, 7}));
            a.put("m", Tensor.of(device, DType.F64, Shape.of(2), new double[] {Math.PI, -1}));
            a.put("n", Tensor.ofInts(device, Shape.of(1), new int[] {42}));
            a.put("s", Tensor.of(device, DType.F32, Shape.of(), new double[] {0.5}));
            out.add(safetensorsBytes(a, Map.of("format", "d2v", "step", "3")));
            out.add(safetensorsBytes(Map.of("x", Tensor.ofInts(device, Shape.of(2, 1), new int[] {1, 2})), null));
        }
        return out;
    }

    private static byte[] safetensorsBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        try {
            Path t = Files.createTempFile("d2v-fuzz-", ".safetensors");
            try {
                SafeTensors.write(t, tensors, metadata);
                return Files.readAllBytes(t);
            } finally {
                Files.deleteIfExists(t);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<byte[]> sentimentSeeds() {
        return List.of(utf8("[{\"text\": \"Great movie!\", \"class\": 1}, {\"text\": \"Awful \\u00e9 plot\", \"class\": 0}, {\"text\": \"end\"}]"),
                utf8("[{\"text\":\"fine\",\"class\":1.0,\"extra\":[1,{\"a\":null},true]}]"));
    }

    private static List<byte[]> tokenFileSeeds() {
        int[] ids = smallBpe().encode(TOKEN_TEXT);
        ByteBuffer b = ByteBuffer.allocate(4 * ids.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) b.putInt(id);
        b.putInt(2);
        return List.of(b.array());
    }

    /** {@code png} with the CRC of every whole chunk set right (a copy). */
    static byte[] fixPngCrcs(byte[] png) {
        byte[] b = png.clone();
        int at = 8;
        while (at + 12 <= b.length) {
            long len = ByteBuffer.wrap(b, at, 4).getInt() & 0xFFFFFFFFL;
            if (at + 12 + len > b.length) break;
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(b, at + 4, 4 + (int) len);
            ByteBuffer.wrap(b, at + 8 + (int) len, 4).putInt((int) crc.getValue());
            at += 12 + (int) len;
        }
        return b;
    }

    // ---- helpers --------------------------------------------------------------------------------

    static Path write(Path dir, String name, byte[] data) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, data);
        return f;
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
