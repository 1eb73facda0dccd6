package org.d2v.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.d2v.data.audio.AudioIndex;
import org.d2v.data.audio.Wav;
import org.d2v.data.image.Idx;
import org.d2v.data.image.ImageFiles;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Gpt2Bpe;
import org.d2v.data.text.TextSets;
import org.d2v.data.text.TokenFile;
import org.d2v.data.text.TextCorpus;
import org.d2v.train.CheckpointException;
import org.d2v.train.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 2: tiny or hostile files whose headers declare sizes, counts or nesting they do
 * not hold. Each is refused with the reader's data exception, naming the file and the problem,
 * before anything of the declared size is allocated (the fuzz harness checks the allocations of
 * the same inputs; here the messages).
 */
class HostileHeadersTest {
    @TempDir Path tmp;

    private static <T extends Throwable> T refused(Class<T> type, Path file, Executable read, String... problem) {
        T e = assertThrows(type, read);
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file first: " + e.getMessage());
        for (String p : problem) assertTrue(e.getMessage().contains(p), "says '" + p + "': " + e.getMessage());
        return e;
    }

    private Path write(String name, byte[] data) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, data);
        return f;
    }

    @Test
    void sixteenByteIdxDeclaringTwoGigabytes() throws IOException {
        int n = 2_700_000; // x 28 x 28 = 2.1 GB of pixels
        Path f = write("huge-images-idx3-ubyte", ByteBuffer.allocate(16).putInt(Idx.IMAGES_MAGIC).putInt(n).putInt(28).putInt(28).array());
        refused(DataFormatException.class, f, () -> Idx.readImages(f),
                "header declares 2700000 images of 28×28 (" + (16 + 784L * n) + " bytes) but the file holds 16 bytes");
        Path l = write("huge-labels-idx1-ubyte", ByteBuffer.allocate(8).putInt(Idx.LABELS_MAGIC).putInt(Integer.MAX_VALUE).array());
        refused(DataFormatException.class, l, () -> Idx.readLabels(l), "header declares " + Integer.MAX_VALUE + " labels", "but the file holds 8 bytes");
        // Three dimensions near 2^31 whose product wraps a long around to a small number.
        Path w = write("wrap-images-idx3-ubyte", ByteBuffer.allocate(16).putInt(Idx.IMAGES_MAGIC).putInt(13362).putInt(959_723_830).putInt(925_514_553).array());
        refused(DataFormatException.class, w, () -> Idx.readImages(w), "header declares 13362 images of 959723830×925514553");
    }

    @Test
    void gzippedIdxDeclaringMoreThanDeflateCanHold() throws IOException {
        byte[] gz = TestFiles.gzip(ByteBuffer.allocate(16).putInt(Idx.IMAGES_MAGIC).putInt(2_700_000).putInt(28).putInt(28).array());
        Path f = write("huge-images-idx3-ubyte.gz", gz);
        refused(DataFormatException.class, f, () -> Idx.readImages(f), "header declares 2700000 images of 28×28", "a gzip file of " + gz.length + " bytes inflates to at most");
    }

    @Test
    void wavChunksLargerThanTheFile() throws IOException {
        Path ok = tmp.resolve("ok.wav");
        Wav.write(ok, new float[] {0.1f, 0.2f, 0.3f}, Wav.RATE);
        byte[] b = Files.readAllBytes(ok);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(40, 0xFFFF_FFF0); // data chunk: 4 GB
        Path data = write("data.wav", b);
        refused(DataFormatException.class, data, () -> Wav.read(data), "truncated: data chunk declares 4294967280 bytes but only 6 follow");
        b = Files.readAllBytes(ok);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(16, Integer.MAX_VALUE); // fmt chunk: 2 GB
        Path fmt = write("fmt.wav", b);
        refused(DataFormatException.class, fmt, () -> Wav.info(fmt), "truncated fmt chunk");
        // A float WAV holding NaN: a valid header, but samples no model can train on.
        Wav.writeRaw(tmp.resolve("nan.wav"), new float[] {0.5f, Float.NaN}, Wav.RATE, 3, 32, 1);
        refused(DataFormatException.class, tmp.resolve("nan.wav"), () -> Wav.read(tmp.resolve("nan.wav")), "sample 1 is NaN");
    }

    @Test
    void pngDeclaringTenGigapixels() throws IOException {
        // A valid 1x1 grey PNG, its IHDR then set to 100000 x 100000 with the CRC made right again.
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_BYTE_GRAY), "png", out);
        byte[] png = out.toByteArray();
        ByteBuffer b = ByteBuffer.wrap(png);
        b.putInt(16, 100_000).putInt(20, 100_000);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        Path f = write("bomb.png", png);
        refused(DataFormatException.class, f, () -> ImageFiles.read(f, 3), "header declares a 100000×100000 image (10000000000 pixels)");
        b.putInt(16, 3000).putInt(20, 3000); // under PIL's limit, but 9 Mpx from 67 bytes
        crc.reset();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        Path g = write("small-bomb.png", png);
        refused(DataFormatException.class, g, () -> ImageFiles.read(g, 1), "header declares a 3000×3000 image", "the file holds only " + png.length + " bytes");
    }

    @Test
    void deepJsonIsRefusedNotAStackOverflow() throws IOException {
        Path s = write("deep.json", "[".repeat(100_000).getBytes(StandardCharsets.UTF_8));
        refused(DataFormatException.class, s, () -> TextSets.readSentiment(s, "imdb"), "nesting depth", "exceeds the maximum allowed (64");
        byte[] json = ("{\"a\":" + "[".repeat(200_000) + "}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer st = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).put(json);
        Path t = write("deep.safetensors", st.array());
        refused(CheckpointException.class, t, () -> SafeTensors.open(t), "bad header: invalid JSON", "exceeds the maximum allowed (64");
    }

    @Test
    void safetensorsSizesThatDoNotFit() throws IOException {
        Path len = write("len.safetensors", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
        refused(CheckpointException.class, len, () -> SafeTensors.open(len), "header length " + Long.MAX_VALUE + " does not fit in a file of 16 bytes");
        int big = Integer.MAX_VALUE;
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + big + "," + big + "," + big + "],\"data_offsets\":[0,4]}}";
        byte[] json = h.getBytes(StandardCharsets.UTF_8);
        Path shape = write("shape.safetensors", ByteBuffer.allocate(8 + json.length + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).put(json).array());
        refused(CheckpointException.class, shape, () -> SafeTensors.open(shape), "tensor 'w' F32", "needs more than 4 bytes but data_offsets span 4");
    }

    @Test
    void tokenizerFilesWhoseCountsOrTokensExplode() throws IOException {
        // Each merge joins the previous token with itself: 40 lines would ask for 2^40-byte tokens.
        StringBuilder b = new StringBuilder("d2v-bpe v1\nvocab " + (BpeTokenizer.FIRST_MERGE + 40) + "\n");
        b.append(BpeTokenizer.FIRST_BYTE + 'a').append(' ').append(BpeTokenizer.FIRST_BYTE + 'a').append('\n');
        for (int k = 1; k < 40; k++) b.append(BpeTokenizer.FIRST_MERGE + k - 1).append(' ').append(BpeTokenizer.FIRST_MERGE + k - 1).append('\n');
        Path bomb = write("bomb-bpe.txt", b.toString().getBytes(StandardCharsets.UTF_8));
        refused(DataFormatException.class, bomb, () -> BpeTokenizer.load(bomb), "line 13: merge " + (BpeTokenizer.FIRST_MERGE + 10) + " makes a token of 2048 bytes");
        Path count = write("count-bpe.txt", "d2v-bpe v1\nvocab 2147483647\n".getBytes(StandardCharsets.UTF_8));
        refused(DataFormatException.class, count, () -> BpeTokenizer.load(count), "line 2 declares vocab 2147483647");

        Path g = Files.createDirectories(tmp.resolve("gpt2"));
        for (String f : new String[] {Gpt2Bpe.VOCAB, Gpt2Bpe.MERGES, Gpt2Bpe.DICT}) Files.copy(TestData.file("gpt2-bpe/" + f), g.resolve(f));
        String vocab = Files.readString(g.resolve(Gpt2Bpe.VOCAB));
        Files.writeString(g.resolve(Gpt2Bpe.VOCAB), vocab.replaceFirst(":\\s*5\\s*,", ": 2147483647,"));
        refused(DataFormatException.class, g.resolve(Gpt2Bpe.VOCAB), () -> Gpt2Bpe.load(g), "has id 2147483647; ids are 0 to");
        Files.writeString(g.resolve(Gpt2Bpe.VOCAB), vocab);
        Files.writeString(g.resolve(Gpt2Bpe.DICT), "99999999999 12\n");
        refused(DataFormatException.class, g.resolve(Gpt2Bpe.DICT), () -> Gpt2Bpe.load(g), "line 1: GPT-2 id 99999999999 is not in");
    }

    @Test
    void tokenFilesChangedUnderTheReader() throws IOException {
        Path corpus = write("corpus.txt", "hello world\nhello again\n".getBytes(StandardCharsets.UTF_8));
        BpeTokenizer tok = BpeTokenizer.train(java.util.List.of("hello world hello again"), BpeTokenizer.FIRST_MERGE + 8);
        try (TokenFile tf = TokenFile.write(TextCorpus.lines(corpus), tok)) {
            byte[] b = Files.readAllBytes(tf.file());
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 1 << 30);
            Files.write(tf.file(), b);
            DataLoadException e = assertThrows(DataLoadException.class, () -> tf.read(0, 3));
            assertTrue(e.getMessage().startsWith(tf.file().toString()) && e.getMessage().contains("token 1 is 1073741824, outside the tokenizer's"), e.getMessage());
            Files.write(tf.file(), java.util.Arrays.copyOf(b, 6));
            e = assertThrows(DataLoadException.class, () -> tf.read(0, 3));
            assertTrue(e.getMessage().startsWith(tf.file().toString()) && e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void manifestLinesThatAreNoPaths() throws IOException {
        Wav.write(tmp.resolve("a.wav"), new float[] {0, 0.5f}, Wav.RATE);
        Path tsv = write("m.tsv", ".\na\0.wav\t2\n".getBytes(StandardCharsets.UTF_8));
        refused(DataFormatException.class, tsv, () -> AudioIndex.manifest(tsv), "line 2: 'a\\u0000.wav' is not a valid path");
    }
}
