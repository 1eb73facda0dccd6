package org.d2v.backend.memory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.RuntimeMeter;

/**
 * Host staging for uploads that do not wait for the device. An upload fills a free slot (host
 * memory the driver can copy from asynchronously: pinned memory on CUDA, a direct buffer on
 * OpenCL), the runtime queues the copy from it and hands back the copy's fence (an event); the slot
 * is free again once that fence has passed. The ring grows while its slots are all in flight, up to
 * {@code capBytes}; only then does an upload wait (for the oldest copy), which counts as a host
 * synchronisation. So the host can queue many steps ahead of the device, and the figures show it
 * when it cannot.
 *
 * <p>Copies larger than {@code maxSlotBytes} are split by the caller into chunks of at most that.
 *
 * @param <F> the runtime's fence (cl_event, CUevent)
 */
public final class StagingRing<F> implements AutoCloseable {
    /** The runtime's side: host memory for slots and the fences of queued copies. */
    public interface Host<F> {
        /** Host memory of {@code bytes} that asynchronous copies may read from. */
        ByteBuffer allocate(int bytes);

        void free(ByteBuffer buffer);

        /** Whether the copy behind {@code fence} has finished; must not block. */
        boolean passed(F fence);

        /** Blocks until the copy behind {@code fence} has finished. */
        void await(F fence);

        /** Releases the fence object itself. */
        void release(F fence);
    }

    /** Writes {@code count} 4-byte elements, from element {@code first} of the caller's array, into a slot. */
    public interface Fill {
        void into(ByteBuffer slot, int first, int count);
    }

    /** One host buffer and the fence of the copy last queued from it (null while free). */
    public static final class Slot<F> {
        private final ByteBuffer buffer;
        private F fence;
        private long queuedAt;

        private Slot(ByteBuffer buffer) { this.buffer = buffer.order(ByteOrder.nativeOrder()); }

        /** The slot's memory, cleared, little-endian as the device reads it. */
        public ByteBuffer buffer() { return buffer; }

        int capacity() { return buffer.capacity(); }
    }

    /** The smallest slot: tiny uploads (a mask, an index) share slots of this size. */
    static final int MIN_SLOT_BYTES = 64 << 10;

    private final Host<F> host;
    private final long capBytes;
    private final int maxSlotBytes;
    private final RuntimeMeter meter;
    private final List<Slot<F>> slots = new ArrayList<>();
    private long totalBytes;
    private long queued;
    private boolean closed;

    public StagingRing(Host<F> host, long capBytes, int maxSlotBytes, RuntimeMeter meter) {
        if (maxSlotBytes < MIN_SLOT_BYTES || capBytes < maxSlotBytes) throw new IllegalArgumentException("bad staging sizes");
        this.host = host;
        this.capBytes = capBytes;
        this.maxSlotBytes = maxSlotBytes;
        this.meter = meter;
    }

    public int maxSlotBytes() { return maxSlotBytes; }

    /**
     * A free slot of at least {@code bytes} (≤ {@link #maxSlotBytes()}), its buffer cleared. Waits
     * only when every slot is in flight and the ring may not grow.
     */
    public synchronized Slot<F> acquire(int bytes) {
        if (closed) throw new IllegalStateException("staging ring is closed");
        if (bytes < 0 || bytes > maxSlotBytes) throw new IllegalArgumentException("staging chunk of " + bytes + " bytes (at most " + maxSlotBytes + ")");
        reap();
        Slot<F> best = null;
        for (Slot<F> s : slots) {
            if (s.fence == null && s.capacity() >= bytes && (best == null || s.capacity() < best.capacity())) best = s;
        }
        if (best == null) best = grow(bytes);
        if (best == null) best = waitForOldest(bytes);
        best.buffer.clear();
        return best;
    }

    /** Marks {@code slot} in flight until {@code fence} passes. */
    public synchronized void queued(Slot<F> slot, F fence) {
        slot.fence = fence;
        slot.queuedAt = ++queued;
    }

    /** Slots held, and their bytes (for tests and figures). */
    public synchronized int slots() { return slots.size(); }

    public synchronized long bytes() { return totalBytes; }

    private void reap() {
        for (Slot<F> s : slots) {
            if (s.fence != null && host.passed(s.fence)) {
                host.release(s.fence);
                s.fence = null;
            }
        }
    }

    private Slot<F> grow(int bytes) {
        int size = Math.max(MIN_SLOT_BYTES, Integer.highestOneBit(Math.max(1, bytes - 1)) << 1);
        size = Math.min(size, maxSlotBytes);
        if (totalBytes + size > capBytes) {
            // Room may come from dropping free slots that are too small.
            for (int i = slots.size() - 1; i >= 0 && totalBytes + size > capBytes; i--) {
                if (slots.get(i).fence == null) drop(i);
            }
            if (totalBytes + size > capBytes) return null;
        }
        Slot<F> s = new Slot<>(host.allocate(size));
        slots.add(s);
        totalBytes += size;
        return s;
    }

    private Slot<F> waitForOldest(int bytes) {
        Slot<F> oldest = null;
        for (Slot<F> s : slots) if (s.fence != null && (oldest == null || s.queuedAt < oldest.queuedAt)) oldest = s;
        if (oldest == null) throw new IllegalStateException("staging ring cannot hold " + bytes + " bytes");
        host.await(oldest.fence);
        meter.hostSync();
        host.release(oldest.fence);
        oldest.fence = null;
        if (oldest.capacity() >= bytes) return oldest;
        drop(slots.indexOf(oldest));
        Slot<F> s = grow(bytes);
        return s != null ? s : waitForOldest(bytes);
    }

    private void drop(int index) {
        Slot<F> s = slots.remove(index);
        totalBytes -= s.capacity();
        host.free(s.buffer);
    }

    /** Waits for every queued copy and frees the host memory. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Slot<F> s : slots) {
            if (s.fence != null) {
                try {
                    host.await(s.fence);
                } finally {
                    host.release(s.fence);
                }
            }
            host.free(s.buffer);
        }
        slots.clear();
        totalBytes = 0;
    }
}
