package org.d2v.backend;

import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;

/**
 * An opened compute device: an allocator, host/device copies and the {@link Ops} that run on it.
 * Closing the device frees everything it still holds.
 *
 * <p>Work is queued in order on one queue (stream) per device. Uploads return before the device has the
 * values (they are copied out of the caller's array first, so it may be reused at once);
 * downloads wait for the copy and everything queued before it, so they are the points where the
 * host synchronises with the device.
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

    /** Waits until all queued work is done (a host synchronisation). */
    void synchronize();

    /**
     * Bytes of the live buffers (their requested lengths), allocated and not yet closed: the
     * per-step leak check reads this.
     */
    long bytesInUse();

    /** The most bytes in use at once since the device opened or {@link #resetPeak()}. */
    long peakBytesInUse();

    /**
     * Bytes held from the driver: the live buffers' blocks rounded up to their size classes plus the
     * blocks the caching allocator keeps for reuse (see org.d2v.backend.memory). Equal to
     * {@link #bytesInUse()} where nothing is cached (the reference backend).
     */
    long bytesReserved();

    /** The most bytes reserved at once since the device opened or {@link #resetPeak()}. */
    long peakBytesReserved();

    /** Starts new high-water marks (in use and reserved) from what is held now. */
    void resetPeak();

    /** Launches, driver allocations and frees, host synchronisations and bytes copied since the device opened or {@link #resetCounters()}. */
    RuntimeCounters counters();

    void resetCounters();

    /**
     * The device's memory as its driver reports it (total, free, largest buffer); {@link DeviceMemory#UNKNOWN}
     * where it does not say.
     */
    default DeviceMemory memory() { return DeviceMemory.UNKNOWN; }

    /** The floating dtype this device computes in by default. */
    DType defaultFloat();

    @Override void close();
}
