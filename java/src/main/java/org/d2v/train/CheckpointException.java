package org.d2v.train;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint that cannot be used: the message names the file and what is wrong with it. */
public final class CheckpointException extends IOException {
    private final Path file;

    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() { return file; }
}
