package org.d2v.jni;

/** A native library or vendor library d2v needs is not there; the message says which and why. */
public final class NativeUnavailableException extends RuntimeException {
    public NativeUnavailableException(String message) { super(message); }
}
