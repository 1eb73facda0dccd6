package org.d2v.backend;

import java.util.concurrent.atomic.AtomicLong;

/** The running counts behind {@link RuntimeCounters}; each runtime (and its allocator) adds to one of these. */
public final class RuntimeMeter {
    private final AtomicLong launches = new AtomicLong();
    private final AtomicLong allocations = new AtomicLong();
    private final AtomicLong frees = new AtomicLong();
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong uploaded = new AtomicLong();
    private final AtomicLong downloaded = new AtomicLong();
    private final AtomicLong tensorBytes = new AtomicLong();

    public void launch() { launches.incrementAndGet(); }

    /** A launch whose tensor arguments hold {@code bytes} in all (see {@link RuntimeCounters#tensorBytes()}). */
    public void launch(long bytes) {
        launches.incrementAndGet();
        tensorBytes.addAndGet(bytes);
    }

    public void driverAllocation() { allocations.incrementAndGet(); }

    public void driverFree() { frees.incrementAndGet(); }

    public void hostSync() { syncs.incrementAndGet(); }

    public void uploaded(long bytes) { uploaded.addAndGet(bytes); }

    public void downloaded(long bytes) { downloaded.addAndGet(bytes); }

    public RuntimeCounters snapshot() {
        return new RuntimeCounters(launches.get(), allocations.get(), frees.get(), syncs.get(), uploaded.get(), downloaded.get(),
                tensorBytes.get());
    }

    public void reset() {
        launches.set(0);
        allocations.set(0);
        frees.set(0);
        syncs.set(0);
        uploaded.set(0);
        downloaded.set(0);
        tensorBytes.set(0);
    }
}
