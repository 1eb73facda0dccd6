package org.d2v.data.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Text pretraining samples as in docs/algorithm.md §3.3 ({@code sample_break_mode: none}): the documents'
 * tokens are concatenated into one stream, each document followed by {@code </s>}, and cut into
 * blocks of {@code blockSize - 1} tokens, each block prefixed with {@code <s>}. No padding; the
 * incomplete last block is dropped.
 */
public final class TokenBlocks {
    private TokenBlocks() {}

    public static List<int[]> of(Tokenizer tok, List<String> documents, int blockSize) {
        if (blockSize < 2) throw new IllegalArgumentException("block size must be >= 2");
        List<int[]> blocks = new ArrayList<>();
        int[] cur = new int[blockSize];
        cur[0] = Tokenizer.BOS;
        int fill = 1;
        for (String doc : documents) {
            int[] ids = tok.encode(doc);
            for (int i = 0; i <= ids.length; i++) {
                cur[fill++] = i < ids.length ? ids[i] : Tokenizer.EOS;
                if (fill == blockSize) {
                    blocks.add(cur);
                    cur = new int[blockSize];
                    cur[0] = Tokenizer.BOS;
                    fill = 1;
                }
            }
        }
        return blocks;
    }
}
