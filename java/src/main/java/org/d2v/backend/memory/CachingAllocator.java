package org.d2v.backend.memory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import org.d2v.backend.MemoryMeter;
import org.d2v.backend.RuntimeMeter;

/**
 * A stream-ordered caching allocator, shared by the OpenCL and CUDA runtimes over their
 * {@link RawMemory}. A released block goes onto a free list of its size class instead of back to
 * the driver, and the next allocation of that class takes it at once, without waiting for the
 * device: every launch and copy of a device is queued in order on one queue/stream, so work queued
 * later on a reused block runs after all work queued on it before (PyTorch's caching allocator
 * relies on the same ordering). After the first step or two of a training loop every allocation is
 * served from the cache: no driver allocation or free inside a step, and on CUDA no cuMemFree,
 * which would wait for the device.
 *
 * <p>Sizes follow {@link SizeClasses}. An allocation takes a cached block of its own class, or
 * else the smallest cached block of up to twice its class, or else asks the driver; if the driver
 * refuses, the cache is given back ({@link #emptyCache()}) and the driver asked once more before the
 * allocation fails with the sizes involved. Blocks are never split, so a block serves one tensor.
 *
 * <p>Two figures are kept with their peaks: bytes in use (the requested sizes of the live blocks,
 * what tensors hold) and bytes reserved (every block held from the driver, live or cached).
 *
 * @param <H> the driver's handle
 */
public final class CachingAllocator<H> implements AutoCloseable {
    /** A block held by one caller; the caller's buffer reports {@link #requested()}, the block may be larger. */
    public static final class Block<H> {
        private final H handle;
        private final long size;
        private long requested;
        private boolean live;

        private Block(H handle, long size) {
            this.handle = handle;
            this.size = size;
        }

        public H handle() { return handle; }

        /** The block's size class: what was taken from the driver. */
        public long size() { return size; }

        /** The bytes asked for by the allocation that holds it. */
        public long requested() { return requested; }
    }

    private final String name;
    private final RawMemory<H> raw;
    private final RuntimeMeter meter;
    private final TreeMap<Long, ArrayDeque<Block<H>>> free = new TreeMap<>();
    private final MemoryMeter inUse = new MemoryMeter();
    private final MemoryMeter reserved = new MemoryMeter();
    private long cachedBytes;
    private boolean closed;

    /** @param name says which device in error messages, e.g. "opencl: pthread-skylake" */
    public CachingAllocator(String name, RawMemory<H> raw, RuntimeMeter meter) {
        this.name = name;
        this.raw = raw;
        this.meter = meter;
    }

    /** A block of at least {@code bytes}: from the cache when one fits, else from the driver. */
    public synchronized Block<H> allocate(long bytes) {
        if (closed) throw new IllegalStateException(name + ": allocator is closed");
        long size = SizeClasses.classOf(bytes);
        Block<H> b = takeCached(size);
        if (b == null) b = new Block<>(fromDriver(bytes, size), size);
        b.live = true;
        b.requested = bytes;
        inUse.allocated(bytes);
        return b;
    }

    /** Returns a block to the cache; it may serve the next allocation right away (see the class comment). */
    public synchronized void release(Block<H> b) {
        if (!b.live) throw new IllegalStateException(name + ": block released twice");
        b.live = false;
        inUse.freed(b.requested);
        if (closed) {
            giveBack(b);
            return;
        }
        free.computeIfAbsent(b.size, k -> new ArrayDeque<>()).push(b);
        cachedBytes += b.size;
    }

    /** Gives every cached block back to the driver; returns the bytes given back. Live blocks stay. */
    public synchronized long emptyCache() {
        long given = 0;
        for (ArrayDeque<Block<H>> list : free.values()) {
            for (Block<H> b : list) {
                giveBack(b);
                given += b.size;
            }
        }
        free.clear();
        cachedBytes = 0;
        return given;
    }

    private Block<H> takeCached(long size) {
        Map.Entry<Long, ArrayDeque<Block<H>>> e = free.ceilingEntry(size);
        if (e == null || e.getKey() > 2 * size) return null;
        Block<H> b = e.getValue().pop();
        if (e.getValue().isEmpty()) free.remove(e.getKey());
        cachedBytes -= b.size;
        return b;
    }

    private H fromDriver(long bytes, long size) {
        H h;
        try {
            h = raw.allocate(size);
        } catch (RuntimeException first) {
            long given = emptyCache();
            try {
                h = raw.allocate(size);
            } catch (RuntimeException second) {
                second.addSuppressed(first);
                throw new org.d2v.backend.OutOfDeviceMemoryException(name + ": cannot allocate " + bytes + " bytes (a block of " + size
                        + "): " + inUse.inUse() + " bytes are in use by live buffers and " + reserved.inUse()
                        + " reserved from the driver, after giving " + given + " cached bytes back and retrying; the driver said: "
                        + second.getMessage(), second);
            }
        }
        meter.driverAllocation();
        reserved.allocated(size);
        return h;
    }

    private void giveBack(Block<H> b) {
        raw.free(b.handle);
        meter.driverFree();
        reserved.freed(b.size);
    }

    public long bytesInUse() { return inUse.inUse(); }

    public long peakBytesInUse() { return inUse.peak(); }

    public long bytesReserved() { return reserved.inUse(); }

    public long peakBytesReserved() { return reserved.peak(); }

    /** Bytes in blocks that are cached (reserved but not in use). */
    public synchronized long bytesCached() { return cachedBytes; }

    public void resetPeaks() {
        inUse.resetPeak();
        reserved.resetPeak();
    }

    /**
     * Gives the cache back and closes the allocator; blocks still live go back to the driver when
     * they are released (the device closes its buffers first).
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        emptyCache();
        closed = true;
    }
}
