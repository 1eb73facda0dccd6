package org.d2v.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of files, and the check against a pinned value. */
public final class Checksums {
    private Checksums() {}

    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Throws naming the file when its SHA-256 is not {@code expected}. */
    public static void verify(Path file, String expected) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "missing (expected sha256 " + expected + ")");
        String actual = sha256(file);
        if (!actual.equalsIgnoreCase(expected)) {
            throw new DataFormatException(file, "sha256 mismatch: expected " + expected + " but found " + actual);
        }
    }
}
