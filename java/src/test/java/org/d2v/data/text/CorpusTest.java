package org.d2v.data.text;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming corpora and the token file give exactly the in-memory blocks; strict UTF-8 names the byte. */
class CorpusTest {
    @TempDir Path tmp;

    @Test
    void tokenFileHoldsWhatTokenBlocksWouldCut() throws Exception {
        String text = Files.readString(TestData.file("brown-ca01-excerpt.txt"));
        String[] parts = text.split("\n\n");
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isBlank()) continue;
            Path f = tmp.resolve("c/" + (char) ('a' + i % 3) + "/d" + String.format("%03d", i) + ".txt");
            Files.createDirectories(f.getParent());
            Files.writeString(f, parts[i]);
        }
        TextCorpus corpus = TextCorpus.of(tmp.resolve("c"));
        corpus.forEach(docs::add);
        BpeTokenizer bpe = BpeTokenizer.train(docs, 320);
        List<int[]> blocks = TokenBlocks.of(bpe, docs, 16);
        try (TokenFile tf = TokenFile.write(corpus, bpe)) {
            assertEquals(blocks.size(), tf.tokens() / 15);
            for (int k = 0; k < blocks.size(); k++) {
                int[] b = blocks.get(k);
                assertArrayEquals(java.util.Arrays.copyOfRange(b, 1, 16), tf.read(k * 15L, 15), "block " + k);
            }
        }
    }

    @Test
    void linesAreDocumentsAndBadBytesAreLocated() throws Exception {
        Path f = tmp.resolve("lines.txt");
        Files.write(f, "first doc\r\n\n  \nsecond — doc\nthird".getBytes(StandardCharsets.UTF_8));
        List<String> docs = new ArrayList<>();
        TextCorpus.of(f).forEach(docs::add);
        assertEquals(List.of("first doc", "second — doc", "third"), docs);
        byte[] bad = "ok line\nbad \u00ff here".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(f, bad);
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextCorpus.of(f).forEach(d -> {}));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("0xFF at byte offset 12"), e.getMessage());
        Files.write(f, new byte[] {'a', (byte) 0xE2, (byte) 0x80});
        e = assertThrows(DataFormatException.class, () -> Utf8.read(f));
        assertTrue(e.getMessage().contains("offset 1"), "a truncated sequence at the end: " + e.getMessage());
    }
}
