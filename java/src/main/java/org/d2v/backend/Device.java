package org.d2v.backend;

import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * An opened compute device: an allocator, host/device copies and the {@link Ops} that run on it.
 * Closing the device frees everything it still holds.
 */
public interface Device extends AutoCloseable {
    /** Human-readable name, e.g. "reference (float64)" or "opencl: pthread-skylake". */
    String name();

    /** The backend's name ("reference", "opencl", "cuda"). */
    String backend();

    Ops ops();

    DeviceBuffer allocate(DType dtype, long elements);

    void upload(DeviceBuffer dst, long offset, double[] src);

    void download(DeviceBuffer src, long offset, double[] dst);

    void uploadInts(DeviceBuffer dst, long offset, int[] src);

    void downloadInts(DeviceBuffer src, long offset, int[] dst);

    /** Waits until all queued work is done. */
    void synchronize();

    /** Bytes currently allocated and not yet freed: the per-step leak check reads this. */
    long bytesInUse();

    /** The most bytes allocated at once since the device opened or {@link #resetPeak()}. */
    long peakBytesInUse();

    void resetPeak();

    /** The floating dtype this device computes in by default. */
    DType defaultFloat();

    @Override void close();
}
