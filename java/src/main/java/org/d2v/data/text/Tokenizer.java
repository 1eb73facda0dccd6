package org.d2v.data.text;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Text to token ids in fairseq's dictionary layout: {@code <s>=0, <pad>=1, </s>=2, <unk>=3}, then
 * the tokenizer's own ids. Implementations: the byte-level BPE d2v trains ({@link BpeTokenizer})
 * and the GPT-2 / RoBERTa byte-level BPE read from vocab.json + merges.txt (+ fairseq's dict.txt,
 * {@link Gpt2Bpe}). Thread-safe: batches are encoded on the prefetch thread.
 */
public interface Tokenizer {
    int BOS = 0, PAD = 1, EOS = 2, UNK = 3;

    /** The ids of {@code text}, without specials. */
    int[] encode(String text);

    /** The text of {@code ids} (specials skipped). */
    String decode(int[] ids);

    /** Ids in use: every id is below this. */
    int vocabSize();

    /** One line for logs. */
    String describe();

    /** Saves the tokenizer into a run folder, where {@link Tokenizers#ofRun} finds it again. */
    void saveTo(Path runDir) throws IOException;
}
