package org.d2v.backend;

/**
 * A {@link CheckingDevice} found a NaN or an infinity: in the output of an op, or in values
 * uploaded to the device. The message names the op, the output, the first bad element (and the
 * parameter it belongs to, where known) and the code that called the op.
 */
public final class NonFiniteValueException extends RuntimeException {
    private final String op;

    public NonFiniteValueException(String op, String message) {
        super(message);
        this.op = op;
    }

    /** The op whose output was not finite ("layerNorm", "adamw", ...), or "upload". */
    public String op() { return op; }
}
