package org.d2v.backend;

import java.util.Locale;

/**
 * What a device's runtime did, counted since the device opened or {@link Device#resetCounters()}:
 * kernel launches, real driver allocations and frees (clCreateBuffer/clReleaseMemObject,
 * cuMemAlloc/cuMemFree: the caching allocator's misses and cache flushes, not every tensor), host
 * synchronisations (any call that blocks the host until the device has done queued work: blocking
 * reads, finish/stream synchronise, waiting on an event), the bytes copied each way, and the bytes
 * of the tensors the launches were given ({@code tensorBytes}: each tensor argument's elements ×
 * its dtype's size, once per launch — the traffic a kernel that reads or writes every element of
 * its arguments once would cause; a model of memory traffic, not a measurement of it).
 */
public record RuntimeCounters(long launches, long driverAllocations, long driverFrees, long hostSyncs,
                              long bytesUploaded, long bytesDownloaded, long tensorBytes) {
    public static final RuntimeCounters ZERO = new RuntimeCounters(0, 0, 0, 0, 0, 0, 0);

    /** What happened between {@code earlier} and this snapshot. */
    public RuntimeCounters minus(RuntimeCounters earlier) {
        return new RuntimeCounters(launches - earlier.launches, driverAllocations - earlier.driverAllocations,
                driverFrees - earlier.driverFrees, hostSyncs - earlier.hostSyncs, bytesUploaded - earlier.bytesUploaded,
                bytesDownloaded - earlier.bytesDownloaded, tensorBytes - earlier.tensorBytes);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d launches, %d driver allocations, %d driver frees, %d host syncs, %d B up, %d B down, %d B of tensor arguments",
                launches, driverAllocations, driverFrees, hostSyncs, bytesUploaded, bytesDownloaded, tensorBytes);
    }
}
