package org.d2v.data.text;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TokenBlocksTest {
    @Test
    void blocksStartWithBosAndSeparateDocumentsWithEos() {
        BpeTokenizer t = BpeTokenizer.train(List.of("abc abc abc"), 270);
        List<String> docs = List.of("hello world", "second doc here", "x");
        int total = 0;
        for (String d : docs) total += t.encode(d).length + 1;
        List<int[]> blocks = TokenBlocks.of(t, docs, 6);
        assertEquals(total / 5, blocks.size());
        StringBuilder joined = new StringBuilder();
        int eos = 0;
        for (int[] b : blocks) {
            assertEquals(6, b.length);
            assertEquals(BpeTokenizer.BOS, b[0]);
            for (int i = 1; i < b.length; i++) if (b[i] == BpeTokenizer.EOS) eos++;
            joined.append(t.decode(java.util.Arrays.copyOfRange(b, 1, b.length)));
        }
        assertTrue("hello worldsecond doc herex".startsWith(joined.toString()), joined.toString());
        assertTrue(eos >= 1);
    }
}
