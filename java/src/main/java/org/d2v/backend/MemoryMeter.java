package org.d2v.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts a device's live bytes and their high-water mark: the per-step leak check reads
 * {@link #inUse()}, the benchmarks read {@link #peak()}.
 */
public final class MemoryMeter {
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    public void allocated(long bytes) {
        long now = inUse.addAndGet(bytes);
        peak.accumulateAndGet(now, Math::max);
    }

    public void freed(long bytes) { inUse.addAndGet(-bytes); }

    public long inUse() { return inUse.get(); }

    public long peak() { return peak.get(); }

    /** Starts a new high-water mark from what is in use now. */
    public void resetPeak() { peak.set(inUse.get()); }
}
