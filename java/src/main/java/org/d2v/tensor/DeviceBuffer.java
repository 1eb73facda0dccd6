package org.d2v.tensor;

import org.d2v.backend.Device;

/**
 * A block of device memory holding {@link #length()} elements of one {@link DType}. Exactly one
 * owner closes it (a Tensor that allocated it, a ParameterStore, a Scope); views never do.
 */
public interface DeviceBuffer extends AutoCloseable {
    Device device();

    DType dtype();

    long length();

    boolean isClosed();

    @Override void close();
}
