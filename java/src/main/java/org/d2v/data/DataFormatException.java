package org.d2v.data;

import java.io.IOException;
import java.nio.file.Path;

/** A data file that cannot be used as it is; the message always names the file and the problem. */
public final class DataFormatException extends IOException {
    private final Path file;

    public DataFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public DataFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() { return file; }
}
