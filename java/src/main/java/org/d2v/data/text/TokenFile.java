package org.d2v.data.text;

import org.d2v.data.DataFormatException;
import org.d2v.data.DataLoadException;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
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
    private final int vocabSize;

    private TokenFile(Path file, long tokens, int vocabSize) throws IOException {
        this.file = file;
        this.tokens = tokens;
        this.vocabSize = vocabSize;
        this.in = new RandomAccessFile(file.toFile(), "r");
    }

    /** Tokenizes the corpus, streaming, into a new temporary file. */
    public static TokenFile write(TextCorpus corpus, Tokenizer tok) throws IOException {
        Path f = Files.createTempFile("d2v-tokens-", ".bin");
        f.toFile().deleteOnExit();
        long[] count = {0};
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(f), 1 << 16))) {
            corpus.forEach(doc -> {
                int[] ids = tok.encode(doc);
                for (int id : ids) out.writeInt(Integer.reverseBytes(id));
                out.writeInt(Integer.reverseBytes(Tokenizer.EOS));
                count[0] += ids.length + 1;
            });
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(f);
            throw e;
        }
        // The count the writer made is what the file declares; its size must agree before anything reads it.
        if (Files.size(f) != 4 * count[0]) {
            Files.deleteIfExists(f);
            throw new DataFormatException(f, "holds " + Files.size(f) + " bytes but " + count[0] + " tokens were written (disk full?)");
        }
        return new TokenFile(f, count[0], tok.vocabSize());
    }

    /** Where the tokens are (a temporary file, deleted on {@link #close()}). */
    public Path file() { return file; }

    /** Tokens in the stream, </s> markers included. */
    public long tokens() { return tokens; }

    /** Ids [from, from + count) of the stream. */
    public synchronized int[] read(long from, int count) {
        if (from < 0 || from + count > tokens) throw new IllegalArgumentException("tokens [" + from + ", " + (from + count) + ") outside " + tokens);
        byte[] raw = new byte[count * 4];
        String where = "tokens [" + from + ", " + (from + count) + ")";
        try {
            in.seek(from * 4);
            in.readFully(raw);
        } catch (EOFException e) {
            throw new DataLoadException(new DataFormatException(file, "truncated: " + tokens + " tokens were written but the file holds "
                    + size() + " bytes (changed while training?)"), where);
        } catch (IOException e) {
            throw new DataLoadException(new DataFormatException(file, "cannot be read: " + e.getMessage(), e), where);
        }
        int[] out = new int[count];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        for (int i = 0; i < count; i++) {
            // An id outside the vocabulary would index past the embedding table on the device.
            if (out[i] < 0 || out[i] >= vocabSize) {
                throw new DataLoadException(new DataFormatException(file, "token " + (from + i) + " is " + out[i] + ", outside the tokenizer's "
                        + vocabSize + " ids (the file changed while training?)"), where);
            }
        }
        return out;
    }

    private long size() {
        try {
            return in.length();
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
        Files.deleteIfExists(file);
    }
}
