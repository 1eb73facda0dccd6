package org.d2v.data.setup;

import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SetupPiecesTest {
    @TempDir Path tmp;

    @Test
    void brownTagsAreStripped() throws IOException {
        String plain = TextSetup.stripTags(Files.readString(TestData.file("brown-ca01-excerpt.txt")));
        assertTrue(plain.startsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \" no evidence \""),
                plain.substring(0, 120));
        assertFalse(plain.contains("/at") || plain.contains("/nn"));
    }

    @Test
    void manifestVerifiesAndNamesTheChangedFile() throws IOException {
        Files.writeString(tmp.resolve("a.txt"), "alpha");
        Files.createDirectories(tmp.resolve("sub"));
        Files.writeString(tmp.resolve("sub/b.txt"), "beta");
        Manifest.write(tmp);
        assertEquals(2, Manifest.verify(tmp));
        Files.writeString(tmp.resolve("sub/b.txt"), "BETA");
        DataFormatException e = assertThrows(DataFormatException.class, () -> Manifest.verify(tmp));
        assertTrue(e.getMessage().contains("b.txt") && e.getMessage().contains("sha256 mismatch"), e.getMessage());
        Files.delete(tmp.resolve("a.txt"));
        e = assertThrows(DataFormatException.class, () -> Manifest.verify(tmp));
        assertTrue(e.getMessage().contains("a.txt") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void pinnedChecksumMismatchNamesTheFile() throws IOException {
        for (String name : FashionMnistSetup.PINNED.keySet()) Files.writeString(tmp.resolve(name), "not the real file");
        DataFormatException e = assertThrows(DataFormatException.class, () -> new FashionMnistSetup().verifyPinned(tmp));
        assertTrue(FashionMnistSetup.PINNED.containsKey(e.file().getFileName().toString()), e.getMessage());
        assertTrue(e.getMessage().startsWith(e.file().toString()) && e.getMessage().contains("sha256 mismatch"), e.getMessage());
    }
}
