package org.d2v.data.text;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tokenized corpus on disk rather than in memory: every document's ids followed by
 * {@code </s>}, as one stream of int32 in a temporary file (fairseq's binarized corpus plays this
 * part), read back by position. Deleted on {@link #close()}.
 */
public final class TokenFile implements AutoCloseable {
    private final Path file;
    // Not a FileChannel: an interrupt (a loader closing mid-read) would close a channel for good.
    private final RandomAccessFile in;
    private final long tokens;

    private TokenFile(Path file, long tokens) throws IOException {
        this.file = file;
        this.tokens = tokens;
        this.in = new RandomAccessFile(file.toFile(), "r");
    }

    /** Tokenizes the corpus, streaming, into a new temporary file. */
    public static TokenFile write(TextCorpus corpus, Tokenizer tok) throws IOException {
        Path f = Files.createTempFile("d2v-tokens-", ".bin");
        f.toFile().deleteOnExit();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(f), 1 << 16))) {
            corpus.forEach(doc -> {
                for (int id : tok.encode(doc)) out.writeInt(Integer.reverseBytes(id));
                out.writeInt(Integer.reverseBytes(Tokenizer.EOS));
            });
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(f);
            throw e;
        }
        long count = Files.size(f) / 4;
        return new TokenFile(f, count);
    }

    /** Tokens in the stream, </s> markers included. */
    public long tokens() { return tokens; }

    /** Ids [from, from + count) of the stream. */
    public synchronized int[] read(long from, int count) {
        if (from < 0 || from + count > tokens) throw new IllegalArgumentException("tokens [" + from + ", " + (from + count) + ") outside " + tokens);
        byte[] raw = new byte[count * 4];
        try {
            in.seek(from * 4);
            in.readFully(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        int[] out = new int[count];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    @Override
    public void close() throws IOException {
        in.close();
        Files.deleteIfExists(file);
    }
}
