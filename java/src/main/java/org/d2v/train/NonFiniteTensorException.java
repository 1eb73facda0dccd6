package org.d2v.train;

import java.io.IOException;
import java.nio.file.Path;

/** A tensor holds a NaN or an infinity where only finite values may be (a checkpoint being written). */
public final class NonFiniteTensorException extends IOException {
    private final String tensor;
    private final long element;

    public NonFiniteTensorException(String tensor, long element, double value) {
        this("tensor '" + tensor + "' holds " + value + " at element " + element, tensor, element);
    }

    private NonFiniteTensorException(String message, String tensor, long element) {
        super(message);
        this.tensor = tensor;
        this.element = element;
    }

    /** The same, naming the checkpoint that was not written. */
    NonFiniteTensorException notWritten(Path target) {
        return new NonFiniteTensorException(target + ": not written: " + getMessage() + " (a checkpoint holds finite values only)", tensor, element);
    }

    public String tensor() { return tensor; }

    public long element() { return element; }
}
