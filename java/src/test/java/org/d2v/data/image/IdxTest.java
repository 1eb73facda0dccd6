package org.d2v.data.image;

import org.d2v.data.DataFormatException;
import org.d2v.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class IdxTest {
    static final Path IMAGES = TestData.file("fashion-t10k-200-images-idx3-ubyte.gz");
    static final Path LABELS = TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz");

    @TempDir Path tmp;

    @Test
    void readsTheFashionSampleWithKnownValues() throws IOException {
        LabeledImages d = Idx.read(IMAGES, LABELS, 10);
        Images im = d.images();
        assertEquals(200, im.count());
        assertEquals(28, im.height());
        assertEquals(28, im.width());
        assertEquals(1, im.channels());
        assertEquals(200 * 784, im.pixels().length);
        // First ten test labels of Fashion-MNIST (ankle boot, pullover, trouser, ...), checked with Python's gzip.
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, Arrays.copyOf(d.labels(), 10));
        assertEquals(3 / 255f, im.pixel(0, 7, 19, 0));
        assertEquals(37 / 255f, im.pixel(0, 7, 25, 0));
        assertEquals(110 / 255f, im.pixel(0, 14, 14, 0));
        assertEquals(234 / 255f, im.pixel(1, 14, 14, 0));
        assertEquals(0f, im.pixel(0, 0, 0, 0));
        int[] counts = new int[10];
        for (int l : d.labels()) counts[l]++;
        assertArrayEquals(new int[] {20, 27, 27, 17, 21, 16, 16, 20, 18, 18}, counts);
        for (float v : im.pixels()) assertTrue(v >= 0 && v <= 1);
    }

    @Test
    void writeThenReadRoundTripsRawAndGzip() throws IOException {
        LabeledImages d = Idx.read(IMAGES, LABELS, 10).head(7);
        for (String suffix : new String[] {"", ".gz"}) {
            Path im = tmp.resolve("im" + suffix), lb = tmp.resolve("lb" + suffix);
            Idx.writeImages(im, d.images());
            Idx.writeLabels(lb, d.labels());
            LabeledImages back = Idx.read(im, lb, 10);
            assertArrayEquals(d.images().pixels(), back.images().pixels());
            assertArrayEquals(d.labels(), back.labels());
        }
        assertEquals(16 + 7 * 784, Files.size(tmp.resolve("im")));
    }

    @Test
    void truncatedGzipNamesTheFile() throws IOException {
        byte[] all = Files.readAllBytes(IMAGES);
        Path cut = tmp.resolve("cut-images.gz");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.readImages(cut));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void truncatedRawBodyAndHeader() throws IOException {
        Path raw = tmp.resolve("raw");
        Idx.writeImages(raw, Idx.readImages(IMAGES).head(3));
        byte[] all = Files.readAllBytes(raw);
        Files.write(raw, Arrays.copyOf(all, all.length - 10));
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.readImages(raw));
        assertTrue(e.getMessage().contains(raw.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("3 images of 28×28"), e.getMessage());
        Files.write(raw, Arrays.copyOf(all, 6));
        e = assertThrows(DataFormatException.class, () -> Idx.readImages(raw));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    @Test
    void wrongMagicIsNamed() {
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.readImages(LABELS));
        assertTrue(e.getMessage().contains(LABELS.toString()) && e.getMessage().contains("magic 2049")
                && e.getMessage().contains("labels file"), e.getMessage());
        e = assertThrows(DataFormatException.class, () -> Idx.readLabels(IMAGES));
        assertTrue(e.getMessage().contains("magic 2051"), e.getMessage());
    }

    @Test
    void countMismatchAndBadLabelsAreNamed() throws IOException {
        Path lb = tmp.resolve("short-labels");
        Idx.writeLabels(lb, new int[150]);
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(IMAGES, lb, 10));
        assertTrue(e.getMessage().contains(lb.toString()) && e.getMessage().contains("150 labels") && e.getMessage().contains("200 images"),
                e.getMessage());
        int[] big = new int[200];
        big[5] = 12;
        Idx.writeLabels(lb, big);
        e = assertThrows(DataFormatException.class, () -> Idx.read(IMAGES, lb, 10));
        assertTrue(e.getMessage().contains("label 12 at index 5"), e.getMessage());
    }

    @Test
    void garbageAndMissingFiles() throws IOException {
        Path junk = tmp.resolve("junk.bin");
        Files.writeString(junk, "hello, not an idx file at all");
        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.readImages(junk));
        assertTrue(e.getMessage().contains(junk.toString()) && e.getMessage().contains("magic"), e.getMessage());
        Path none = tmp.resolve("nope");
        e = assertThrows(DataFormatException.class, () -> Idx.readLabels(none));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void imageSetsLoadsAnInstalledLayout() throws IOException {
        Path set = Files.createDirectories(tmp.resolve("fashion-mnist"));
        Files.copy(IMAGES, set.resolve("t10k-images-idx3-ubyte.gz"));
        Files.copy(LABELS, set.resolve("t10k-labels-idx1-ubyte.gz"));
        assertEquals(200, ImageSets.fashionMnist(tmp, Split.TEST).size());
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageSets.mnist(tmp, Split.TEST));
        assertTrue(e.getMessage().contains("not installed") && e.getMessage().contains("make data"), e.getMessage());
    }
}
