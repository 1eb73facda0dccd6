package org.d2v.data;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A batch could not be built while training ran (a corrupt image met for the first time, a file
 * removed since the run started): unchecked because it surfaces from a batch source's
 * {@code next()}, its message the file's own ({@link DataFormatException} names the file) plus the
 * batch that needed it.
 */
public final class DataLoadException extends UncheckedIOException {
    public DataLoadException(IOException cause, String where) {
        super(cause.getMessage() + " (while loading " + where + ")", cause);
    }
}
