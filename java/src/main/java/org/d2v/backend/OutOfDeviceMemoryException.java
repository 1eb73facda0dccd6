package org.d2v.backend;

/**
 * A device could not hold a buffer: the driver refused it even after the cache was given back, or
 * the host (the reference device) had no memory left. The message says the sizes involved; the
 * command line adds the hint (a smaller batch).
 */
public final class OutOfDeviceMemoryException extends IllegalStateException {
    public OutOfDeviceMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
