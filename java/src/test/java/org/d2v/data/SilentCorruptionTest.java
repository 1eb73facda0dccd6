package org.d2v.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import org.d2v.data.image.Idx;
import org.d2v.data.image.ImageFiles;
import org.d2v.data.image.ImageSets;
import org.d2v.data.image.Images;
import org.d2v.data.image.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 3: damage that used to be read as if it were fine. A gzip file whose CRC-32 or
 * length trailer is wrong, cut off, or followed by garbage fails naming the file; a PNG whose
 * chunk CRC is wrong likewise; an installed data set whose files changed since install fails on
 * open with the file, both hashes and how to reinstall.
 */
class SilentCorruptionTest {
    @TempDir Path tmp;
    private static final Path IMAGES = TestData.file("fashion-t10k-200-images-idx3-ubyte.gz");
    private static final Path LABELS = TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz");

    private static void refused(Path file, Executable read, String... problem) {
        DataFormatException e = assertThrows(DataFormatException.class, read);
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file first: " + e.getMessage());
        for (String p : problem) assertTrue(e.getMessage().contains(p), "says '" + p + "': " + e.getMessage());
    }

    private Path damaged(String name, byte[] all, int at, int xor) throws IOException {
        byte[] b = all.clone();
        b[at >= 0 ? at : b.length + at] ^= (byte) xor;
        Path f = tmp.resolve(name);
        Files.write(f, b);
        return f;
    }

    @Test
    void gzipTrailerIsChecked() throws IOException {
        byte[] all = Files.readAllBytes(IMAGES);
        Images good = Idx.readImages(IMAGES);
        // Before: read to the declared body and closed, so these two were read as if fine.
        Path crc = damaged("crc-images.gz", all, -8, 0x01);
        refused(crc, () -> Idx.readImages(crc), "corrupt gzip data: CRC-32 mismatch in member 1");
        Path size = damaged("size-images.gz", all, -4, 0x01);
        refused(size, () -> Idx.readImages(size), "corrupt gzip data: length mismatch in member 1");
        Path cut = tmp.resolve("cut-images.gz");
        Files.write(cut, Arrays.copyOf(all, all.length - 3));
        refused(cut, () -> Idx.readImages(cut), "truncated gzip data", "without its complete 8-byte CRC-32/length trailer");
        // A flipped bit in the compressed body: corrupt deflate data, or a CRC mismatch where it still inflates.
        Path body = damaged("body-images.gz", all, all.length / 2, 0x10);
        refused(body, () -> Idx.readImages(body), "corrupt gzip data");
        assertEquals(good.count(), Idx.readImages(IMAGES).count(), "the undamaged file still reads");
    }

    @Test
    void concatenatedMembersAreOneStreamAndTrailingGarbageIsRefused() throws IOException {
        byte[] raw = new byte[8 + 5];
        ByteBuffer.wrap(raw).putInt(Idx.LABELS_MAGIC).putInt(5);
        for (int i = 0; i < 5; i++) raw[8 + i] = (byte) i;
        byte[] a = TestFiles.gzip(Arrays.copyOf(raw, 10)), b = TestFiles.gzip(Arrays.copyOfRange(raw, 10, raw.length));
        byte[] two = new byte[a.length + b.length];
        System.arraycopy(a, 0, two, 0, a.length);
        System.arraycopy(b, 0, two, a.length, b.length);
        Path cat = tmp.resolve("cat-labels.gz");
        Files.write(cat, two);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, Idx.readLabels(cat), "cat a.gz b.gz reads as gzip -d reads it");

        Path damagedSecond = damaged("second-labels.gz", two, -8, 0x40);
        refused(damagedSecond, () -> Idx.readLabels(damagedSecond), "CRC-32 mismatch in member 2");

        byte[] junk = Arrays.copyOf(two, two.length + 5);
        Path trailing = tmp.resolve("junk-labels.gz");
        Files.write(trailing, junk);
        refused(trailing, () -> Idx.readLabels(trailing), "5 bytes of trailing garbage after the last gzip member, at byte offset " + two.length);

        // More data than the header declares, inside the gzip stream: refused, not ignored.
        byte[] longer = Arrays.copyOf(raw, raw.length + 2);
        Path extra = tmp.resolve("extra-labels.gz");
        Files.write(extra, TestFiles.gzip(longer));
        refused(extra, () -> Idx.readLabels(extra), "2 more bytes after 5 labels");
    }

    @Test
    void pngChunkCrcIsChecked() throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(6, 5, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 5; y++) for (int x = 0; x < 6; x++) im.setRGB(x, y, x * 40 << 16 | y * 50);
        javax.imageio.ImageIO.write(im, "png", out);
        byte[] png = out.toByteArray();
        Path ok = tmp.resolve("ok.png");
        Files.write(ok, png);
        assertEquals(6, ImageFiles.read(ok, 3).width());
        int idat = 8 + 25; // the chunk after IHDR
        Path crc = damaged("crc.png", png, idat + 4 + 4 + 2, 0x01); // a byte of IDAT's data: it may still inflate
        refused(crc, () -> ImageFiles.read(crc, 3), "corrupt PNG: CRC-32 mismatch in chunk 2 (IDAT)");
        Path cut = tmp.resolve("cut.png");
        Files.write(cut, Arrays.copyOf(png, png.length - 12)); // no IEND
        refused(cut, () -> ImageFiles.read(cut, 3), "truncated PNG");
    }

    /** A fashion-mnist folder as d2v data install leaves it (the 200 test images as the test split), recorded. */
    private Path installed() throws IOException {
        Path set = Files.createDirectories(tmp.resolve("data/" + ImageSets.FASHION_MNIST));
        Files.copy(IMAGES, set.resolve("t10k-images-idx3-ubyte.gz"));
        Files.copy(LABELS, set.resolve("t10k-labels-idx1-ubyte.gz"));
        InstalledSet.record(set);
        return set;
    }

    @Test
    void installedSetsAreCheckedWhenOpened() throws IOException {
        Path set = installed(), root = set.getParent();
        assertEquals(200, ImageSets.fashionMnist(root, Split.TEST).size());
        assertEquals(new InstalledSet.Checked(2, 0), InstalledSet.verify(set, InstalledSet.Mode.QUICK), "unchanged: size and time only, nothing hashed");
        assertEquals(new InstalledSet.Checked(2, 2), InstalledSet.verify(set, InstalledSet.Mode.FULL), "on demand: every file hashed");

        // Touched but unchanged: hashed once, found the same, stamp renewed.
        Path images = set.resolve("t10k-images-idx3-ubyte.gz");
        Files.setLastModifiedTime(images, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertEquals(new InstalledSet.Checked(2, 1), InstalledSet.verify(set, InstalledSet.Mode.QUICK));
        assertEquals(new InstalledSet.Checked(2, 0), InstalledSet.verify(set, InstalledSet.Mode.QUICK));

        // Changed: training or a probe opening the set fails before reading it, with both hashes and the fix.
        String expected = Checksums.sha256(images);
        byte[] b = Files.readAllBytes(images);
        b[b.length / 3] ^= 1;
        Files.write(images, b);
        String actual = Checksums.sha256(images);
        refused(images, () -> ImageSets.fashionMnist(root, Split.TEST), "sha256 mismatch: expected " + expected, "found " + actual,
                "reinstall it: rm -rf " + set + " && d2v data install --sets fashion-mnist --dir " + root.toAbsolutePath());
        refused(images, () -> DataDir.of(root, ImageSets.FASHION_MNIST), "sha256 mismatch");

        // Missing.
        Files.delete(images);
        refused(images, () -> ImageSets.fashionMnist(root, Split.TEST), "missing from the installed set", "d2v data install --sets fashion-mnist");
    }

    @Test
    void sameSizeAndTimeIsTrustedUntilAFullCheck() throws IOException {
        // The quick check's documented limit: a change that keeps both size and time is found by FULL only.
        Path set = installed(), labels = set.resolve("t10k-labels-idx1-ubyte.gz");
        FileTime t = Files.getLastModifiedTime(labels);
        byte[] b = Files.readAllBytes(labels);
        b[b.length - 8] ^= 1; // the gzip CRC: the reader would catch this one too, but say the hash must
        Files.write(labels, b);
        Files.setLastModifiedTime(labels, t);
        assertEquals(new InstalledSet.Checked(2, 0), InstalledSet.verify(set, InstalledSet.Mode.QUICK));
        refused(labels, () -> InstalledSet.verify(set, InstalledSet.Mode.FULL), "sha256 mismatch");
    }

    @Test
    void aManifestWrittenBeforeStampsExistedIsUpgradedOnFirstOpen() throws IOException {
        Path set = installed();
        Files.delete(set.resolve(InstalledSet.STAMPS));
        assertEquals(new InstalledSet.Checked(2, 2), InstalledSet.verify(set, InstalledSet.Mode.QUICK), "no stamps yet: every file hashed once");
        assertTrue(Files.isRegularFile(set.resolve(InstalledSet.STAMPS)));
        assertEquals(new InstalledSet.Checked(2, 0), InstalledSet.verify(set, InstalledSet.Mode.QUICK));
        Files.writeString(set.resolve(InstalledSet.STAMPS), "garbage\tx\n");
        assertEquals(new InstalledSet.Checked(2, 2), InstalledSet.verify(set, InstalledSet.Mode.QUICK), "a damaged cache costs a hash, never an error");
    }
}
