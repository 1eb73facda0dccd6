package org.d2v.data.text;

import org.d2v.data.DataFormatException;
import org.d2v.data.Split;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TextTest {
    @TempDir Path tmp;

    @Test
    void emptyBinaryAndNonUtf8FilesAreNamed() throws IOException {
        Path empty = tmp.resolve("empty.txt");
        Files.write(empty, new byte[0]);
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextFiles.read(empty));
        assertTrue(e.getMessage().startsWith(empty.toString()) && e.getMessage().contains("empty"), e.getMessage());
        Path bin = tmp.resolve("bin.txt");
        Files.write(bin, new byte[] {'a', 'b', 0, 1, 2});
        e = assertThrows(DataFormatException.class, () -> TextFiles.read(bin));
        assertTrue(e.getMessage().contains(bin.toString()) && e.getMessage().contains("binary"), e.getMessage());
        Path latin = tmp.resolve("latin1.txt");
        Files.write(latin, new byte[] {'c', 'a', 'f', (byte) 0xE9});
        e = assertThrows(DataFormatException.class, () -> TextFiles.read(latin));
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
        Path blank = tmp.resolve("blank.txt");
        Files.writeString(blank, " \n\t\n");
        assertThrows(DataFormatException.class, () -> TextFiles.read(blank));
    }

    @Test
    void sentimentExcerptDropsTheFinalClasslessRecord() throws IOException {
        List<Sentence> s = TextSets.readSentiment(TestData.file("sentiment-yelp-excerpt.json"), "yelp");
        assertEquals(12, s.size());
        int[] labels = s.stream().mapToInt(Sentence::label).toArray();
        assertArrayEquals(new int[] {1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0}, labels);
        assertEquals("Wow... Loved this place.", s.get(0).text());
        assertTrue(s.stream().allMatch(x -> x.domain().equals("yelp")));
    }

    @Test
    void aClasslessRecordInTheMiddleIsAnError() throws IOException {
        Path f = tmp.resolve("bad.json");
        Files.writeString(f, "[{\"text\":\"fine\",\"class\":1},{\"text\":\"\",\"class\":null},{\"text\":\"x\",\"class\":0}]");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextSets.readSentiment(f, "imdb"));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("record 1"), e.getMessage());
        Files.writeString(f, "[{\"text\": \"unterminated}");
        e = assertThrows(DataFormatException.class, () -> TextSets.readSentiment(f, "imdb"));
        assertTrue(e.getMessage().contains("JSON error"), e.getMessage());
    }

    @Test
    void leaveOneDomainOut() {
        List<Sentence> all = new ArrayList<>();
        for (String d : TextSets.DOMAINS) for (int i = 0; i < 4; i++) all.add(new Sentence(d + i, i % 2, d));
        Split<Sentence> s = TextSets.leaveDomainOut(all, "amazon");
        assertEquals(4, s.test().size());
        assertTrue(s.test().stream().allMatch(x -> x.domain().equals("amazon")));
        assertEquals(8, s.train().size());
        assertTrue(s.train().stream().noneMatch(x -> x.domain().equals("amazon")));
        assertThrows(IllegalArgumentException.class, () -> TextSets.leaveDomainOut(all, "twitter"));
    }

    @Test
    void corpusFolderReadsDocumentsAndGenres() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("brown"));
        Files.writeString(dir.resolve("ca01.txt"), "The jury said .\n");
        Files.writeString(dir.resolve("cb02.txt"), "Editorial text .\n");
        Files.writeString(dir.resolve("genres.tsv"), "ca01\tnews\ncb02\teditorial\n");
        List<Document> docs = TextSets.readFolder(dir, "brown");
        assertEquals(2, docs.size());
        assertEquals("news", docs.get(0).genre());
        assertEquals("editorial", docs.get(1).genre());
        assertEquals("The jury said .\n", docs.get(0).text());
        Files.write(dir.resolve("cc03.txt"), new byte[0]);
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextSets.readFolder(dir, "brown"));
        assertTrue(e.getMessage().contains("cc03.txt"), e.getMessage());
    }
}
