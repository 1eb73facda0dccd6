package org.d2v.data.text;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds and opens tokenizers: a d2v BPE file ({@code d2v-bpe v1}, as {@code d2v data install} and
 * text runs save it) or a GPT-2/RoBERTa folder (vocab.json + merges.txt [+ dict.txt]).
 */
public final class Tokenizers {
    /** The d2v BPE saved in a run folder. */
    public static final String D2V_FILE = "tokenizer-bpe.txt";
    /** The GPT-2 BPE files copied into a run folder. */
    public static final String GPT2_DIR = "tokenizer-gpt2";

    private Tokenizers() {}

    /** A d2v BPE file, or a folder with vocab.json + merges.txt. */
    public static Tokenizer load(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            if (Gpt2Bpe.isGpt2Folder(path)) return Gpt2Bpe.load(path);
            if (Files.isRegularFile(path.resolve(D2V_FILE))) return BpeTokenizer.load(path.resolve(D2V_FILE));
            throw new DataFormatException(path, "not a tokenizer: expected a folder with " + Gpt2Bpe.VOCAB + " + " + Gpt2Bpe.MERGES
                    + " (+ fairseq's " + Gpt2Bpe.DICT + "), or a d2v BPE file");
        }
        if (!Files.isRegularFile(path)) throw new DataFormatException(path, "no such tokenizer file or folder");
        return BpeTokenizer.load(path);
    }

    /** The tokenizer saved in a run folder, or null when it holds none. */
    public static Tokenizer ofRun(Path runDir) throws IOException {
        Path p = savedIn(runDir);
        return p == null ? null : load(p);
    }

    /** Where a run folder keeps its tokenizer (the d2v BPE file or the GPT-2 folder), or null. */
    public static Path savedIn(Path runDir) {
        if (Files.isRegularFile(runDir.resolve(D2V_FILE))) return runDir.resolve(D2V_FILE);
        if (Gpt2Bpe.isGpt2Folder(runDir.resolve(GPT2_DIR))) return runDir.resolve(GPT2_DIR);
        return null;
    }
}
