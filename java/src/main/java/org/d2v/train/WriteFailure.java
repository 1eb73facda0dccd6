package org.d2v.train;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A file that could not be written, as the user should read it: which file, what it was, the
 * operating system's reason (often only "No space left on device", naming nothing) and how much
 * space is free on its file system (and how much was needed, where known).
 */
public final class WriteFailure {
    private WriteFailure() {}

    /**
     * "<target>: could not write <what>: <reason>; <free> free on its file system[, about <needed> needed]".
     * {@code needed} ≤ 0: not known.
     */
    public static IOException of(Path target, String what, IOException cause, long needed) {
        String reason = cause instanceof FileSystemException f
                ? (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName()) + " (" + f.getFile() + ")"
                : cause.getMessage();
        IOException e = new IOException(target + ": could not write " + what + ": " + reason + space(target, needed), cause);
        return e;
    }

    /** "; 12.0 kB free on its file system, about 681.5 kB needed", or "" when the file system does not say. */
    static String space(Path target, long needed) {
        Path p = target.toAbsolutePath();
        while (p != null && !Files.exists(p)) p = p.getParent();
        if (p == null) return "";
        try {
            FileStore store = Files.getFileStore(p);
            return "; " + bytes(store.getUsableSpace()) + " free on its file system" + (needed > 0 ? ", about " + bytes(needed) + " needed" : "");
        } catch (IOException e) {
            return "";
        }
    }

    /** 1234567 → "1.2 MB" (decimal units, as df -H). */
    public static String bytes(long n) {
        if (n < 1000) return n + " B";
        String[] units = {"kB", "MB", "GB", "TB", "PB", "EB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
