package org.d2v.data.text;

import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BpeTokenizerTest {
    @TempDir Path tmp;

    static List<String> corpus() throws IOException {
        // The tagged Brown excerpt with tags stripped by a simple split, plus the sentiment excerpt's raw text.
        String brown = Files.readString(TestData.file("brown-ca01-excerpt.txt")).replaceAll("/\\S+", "");
        String yelp = Files.readString(TestData.file("sentiment-yelp-excerpt.json"));
        return List.of(brown, yelp, brown.toUpperCase());
    }

    @Test
    void roundTripsAnyTextIncludingUnseenCharacters() throws IOException {
        BpeTokenizer t = BpeTokenizer.train(corpus(), 400);
        assertEquals(400, t.vocabSize());
        for (String s : List.of("The jury said Friday an investigation of Atlanta's election.", "  two  spaces\tand\ttabs\n\n",
                "naïve café — 東京 🙂 emoji", "", "1234567890 !!! ???", "\u0000control\u0001")) {
            int[] ids = t.encode(s);
            for (int id : ids) assertTrue(id >= BpeTokenizer.FIRST_BYTE && id < t.vocabSize(), "id " + id);
            assertEquals(s, t.decode(ids));
        }
    }

    @Test
    void mergesShortenFrequentWords() throws IOException {
        BpeTokenizer t = BpeTokenizer.train(corpus(), 500);
        String s = " the election";
        assertTrue(t.encode(s).length < s.getBytes(StandardCharsets.UTF_8).length / 2, "merged: " + t.encode(s).length);
        assertEquals(1, t.encode(" the").length, "a very frequent word becomes one token");
        assertEquals(" the", t.tokenText(t.encode(" the")[0]));
    }

    @Test
    void specialsHaveFairseqIdsAndDecodeToNothing() throws IOException {
        BpeTokenizer t = BpeTokenizer.train(corpus(), 300);
        assertEquals(List.of("<s>", "<pad>", "</s>", "<unk>"), BpeTokenizer.SPECIALS);
        assertEquals("<s>", t.tokenText(BpeTokenizer.BOS));
        assertEquals("<pad>", t.tokenText(BpeTokenizer.PAD));
        int[] body = t.encode("hello");
        int[] framed = new int[body.length + 2];
        framed[0] = BpeTokenizer.BOS;
        System.arraycopy(body, 0, framed, 1, body.length);
        framed[framed.length - 1] = BpeTokenizer.EOS;
        assertEquals("hello", t.decode(framed));
    }

    @Test
    void trainingIsDeterministicAndSaveLoadKeepsEncodings() throws IOException {
        BpeTokenizer a = BpeTokenizer.train(corpus(), 450), b = BpeTokenizer.train(corpus(), 450);
        Path fa = tmp.resolve("a.txt"), fb = tmp.resolve("b.txt");
        a.save(fa);
        b.save(fb);
        assertEquals(Files.readString(fa), Files.readString(fb));
        BpeTokenizer loaded = BpeTokenizer.load(fa);
        assertEquals(a.vocabSize(), loaded.vocabSize());
        String s = String.join(" ", corpus());
        assertArrayEquals(a.encode(s), loaded.encode(s));
    }

    @Test
    void corruptTokenizerFilesAreNamed() throws IOException {
        Path f = tmp.resolve("bpe.txt");
        Files.writeString(f, "something else\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> BpeTokenizer.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not a d2v BPE file"), e.getMessage());
        Files.writeString(f, "d2v-bpe v1\nvocab 262\n100 101\n999 4\n");
        e = assertThrows(DataFormatException.class, () -> BpeTokenizer.load(f));
        assertTrue(e.getMessage().contains("line 4") && e.getMessage().contains("999"), e.getMessage());
        Files.writeString(f, "d2v-bpe v1\nvocab 300\n100 101\n");
        e = assertThrows(DataFormatException.class, () -> BpeTokenizer.load(f));
        assertTrue(e.getMessage().contains("declares vocab 300"), e.getMessage());
    }
}
