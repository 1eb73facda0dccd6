package org.d2v.data.text;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Known encodings: testdata/gpt2-bpe holds a byte-level BPE trained by HuggingFace's tokenizers
 * (make.py) and what it encodes the test strings to, GPT-2 ids and fairseq ids after dict.txt.
 */
class Gpt2BpeTest {
    @TempDir Path tmp;

    private static Path dir() { return TestData.file("gpt2-bpe/vocab.json").getParent(); }

    private static List<String[]> cases() throws Exception {
        return Files.readAllLines(dir().resolve("encodings.tsv")).stream().map(l -> l.split("\t", -1)).toList();
    }

    private static int[] ids(String s) {
        return s.isBlank() ? new int[0] : Arrays.stream(s.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void encodesLikeHuggingFaceAndMapsThroughFairseqsDictionary() throws Exception {
        Gpt2Bpe bpe = Gpt2Bpe.load(dir());
        assertEquals(4 + 419 + 1, bpe.vocabSize(), "specials, dict.txt's 419 lines (a madeupword among them), <mask>");
        ObjectMapper json = new ObjectMapper();
        int unks = 0;
        for (String[] c : cases()) {
            String text = json.readValue(c[0], String.class);
            int[] expected = ids(c[2]);
            assertArrayEquals(expected, bpe.encode(text), "fairseq ids of " + c[0]);
            for (int id : expected) if (id == Tokenizer.UNK) unks++;
            if (Arrays.stream(expected).noneMatch(i -> i == Tokenizer.UNK)) assertEquals(text, bpe.decode(bpe.encode(text)), "round trip of " + c[0]);
        }
        assertTrue(unks > 0, "the fixture exercises ids missing from dict.txt");
    }

    @Test
    void withoutDictTheVocabularyMustPutTheSpecialsFirst() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("gpt2"));
        Files.copy(dir().resolve("vocab.json"), d.resolve("vocab.json"));
        Files.copy(dir().resolve("merges.txt"), d.resolve("merges.txt"));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Gpt2Bpe.load(d));
        assertTrue(e.getMessage().contains("dict.txt") && e.getMessage().contains(d.toString()), e.getMessage());

        // HuggingFace's RoBERTa layout: <s> <pad> </s> <unk> are ids 0..3 of vocab.json itself; ids used as they are.
        ObjectMapper json = new ObjectMapper();
        @SuppressWarnings("unchecked")
        java.util.Map<String, Integer> v = json.readValue(dir().resolve("vocab.json").toFile(), java.util.Map.class);
        java.util.Map<String, Integer> shifted = new java.util.LinkedHashMap<>();
        String[] sp = {"<s>", "<pad>", "</s>", "<unk>"};
        for (int i = 0; i < 4; i++) shifted.put(sp[i], i);
        v.forEach((t, id) -> shifted.put(t, id + 4));
        json.writeValue(d.resolve("vocab.json").toFile(), shifted);
        Gpt2Bpe roberta = Gpt2Bpe.load(d);
        for (String[] c : cases()) {
            int[] gpt2 = ids(c[1]);
            assertArrayEquals(Arrays.stream(gpt2).map(i -> i + 4).toArray(), roberta.encode(json.readValue(c[0], String.class)), c[0]);
        }
    }

    @Test
    void badFilesAreNamed() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("bad"));
        Files.writeString(d.resolve("vocab.json"), "[1, 2]");
        Files.copy(dir().resolve("merges.txt"), d.resolve("merges.txt"));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Gpt2Bpe.load(d));
        assertTrue(e.getMessage().startsWith(d.resolve("vocab.json").toString()), e.getMessage());
        Files.copy(dir().resolve("vocab.json"), d.resolve("vocab.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(d.resolve("dict.txt"), "12 5\nnot-a-line\n");
        e = assertThrows(DataFormatException.class, () -> Gpt2Bpe.load(d));
        assertTrue(e.getMessage().contains("dict.txt") && e.getMessage().contains("line 2"), e.getMessage());
        e = assertThrows(DataFormatException.class, () -> Tokenizers.load(tmp.resolve("nothing-here")));
        assertTrue(e.getMessage().contains("nothing-here"), e.getMessage());
    }

    @Test
    void savedWithARunAndFoundAgain() throws Exception {
        Gpt2Bpe bpe = Gpt2Bpe.load(dir());
        bpe.saveTo(tmp);
        Tokenizer again = Tokenizers.ofRun(tmp);
        assertNotNull(again);
        assertArrayEquals(bpe.encode("The quick brown fox"), again.encode("The quick brown fox"));
        assertEquals(bpe.vocabSize(), again.vocabSize());
    }
}
