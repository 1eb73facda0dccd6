package org.d2v.data;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** A path written in a list file (a manifest, an index): resolved, or refused naming the list and the line. */
public final class ListedPath {
    private ListedPath() {}

    /** {@code name} resolved against {@code base}; a name no file can have (a NUL byte, say) is an error naming {@code list} and line {@code line}. */
    public static Path resolve(Path base, String name, Path list, long line) throws DataFormatException {
        try {
            return base == null ? Path.of(name) : base.resolve(name);
        } catch (InvalidPathException e) {
            throw new DataFormatException(list, "line " + line + ": '" + printable(name) + "' is not a valid path (" + e.getReason() + ")");
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        return b.length() > 200 ? b.substring(0, 200) + "..." : b.toString();
    }
}
