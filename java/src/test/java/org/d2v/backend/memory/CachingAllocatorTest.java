package org.d2v.backend.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.d2v.backend.RuntimeMeter;
import org.junit.jupiter.api.Test;

/** The caching allocator over a fake driver that counts what it is asked and can run out of memory. */
class CachingAllocatorTest {
    /** A driver with {@code capacity} bytes; handles are serial numbers. */
    private static final class FakeDriver implements RawMemory<Long> {
        final long capacity;
        long held, next, allocations, frees;
        final Set<Long> live = new HashSet<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();

        FakeDriver(long capacity) { this.capacity = capacity; }

        @Override
        public Long allocate(long bytes) {
            if (held + bytes > capacity) throw new IllegalStateException("out of memory (" + bytes + " asked, " + (capacity - held) + " free)");
            held += bytes;
            allocations++;
            long h = next++;
            live.add(h);
            sizes.put(h, bytes);
            return h;
        }

        @Override
        public void free(Long h) {
            if (!live.remove(h)) throw new IllegalStateException("double free of " + h);
            held -= sizes.get(h);
            frees++;
        }
    }

    private final RuntimeMeter meter = new RuntimeMeter();

    @Test
    void sizeClasses() {
        assertEquals(512, SizeClasses.classOf(1));
        assertEquals(512, SizeClasses.classOf(512));
        assertEquals(1024, SizeClasses.classOf(513));
        assertEquals(1 << 20, SizeClasses.classOf(1 << 20));
        assertEquals(5L << 18, SizeClasses.classOf((1 << 20) + 1), "1.25 MiB");
        assertEquals(2L << 20, SizeClasses.classOf(2L << 20));
        assertEquals(5L << 19, SizeClasses.classOf((2L << 20) + 1), "2.5 MiB");
        assertEquals(7L << 28, SizeClasses.classOf((3L << 29) + 12345), "1.75 GiB");
        for (long b = 1; b < 1L << 34; b = b * 3 + 7) {
            long c = SizeClasses.classOf(b);
            assertTrue(c >= b && (b <= 512 || c < 1.25 * b + 512), b + " -> " + c);
        }
        assertThrows(IllegalArgumentException.class, () -> SizeClasses.classOf(0));
    }

    @Test
    void releasedBlocksServeTheNextAllocationWithoutTheDriver() {
        FakeDriver d = new FakeDriver(1L << 30);
        try (CachingAllocator<Long> a = new CachingAllocator<>("fake", d, meter)) {
            var first = a.allocate(1000);
            assertEquals(1024, first.size());
            assertEquals(1000, first.requested());
            a.release(first);
            var second = a.allocate(900); // same class
            assertSame(first.handle(), second.handle());
            assertEquals(900, second.requested());
            assertEquals(1, d.allocations);
            // a training step's pattern, twice: the second round asks the driver for nothing
            for (int round = 0; round < 2; round++) {
                long before = d.allocations;
                var x = a.allocate(3 << 20);
                var y = a.allocate(4000);
                var z = a.allocate(3 << 20);
                a.release(y);
                var w = a.allocate(100);
                a.release(x);
                a.release(z);
                a.release(w);
                if (round == 1) assertEquals(before, d.allocations, "no driver allocation once warm");
            }
            a.release(second);
            assertEquals(0, d.frees);
            assertEquals(d.allocations, meter.snapshot().driverAllocations());
        }
        assertEquals(0, d.held, "closing gives everything back");
        assertEquals(d.allocations, d.frees);
    }

    @Test
    void aLargerCachedBlockServesUpToTwiceItsClass() {
        FakeDriver d = new FakeDriver(1L << 30);
        try (CachingAllocator<Long> a = new CachingAllocator<>("fake", d, meter)) {
            var big = a.allocate(4096);
            a.release(big);
            var small = a.allocate(1000); // class 1024: 4096 is more than twice that
            assertNotSame(big.handle(), small.handle());
            var mid = a.allocate(2500);   // class 2560 ≤ 4096 ≤ 2 × 2560
            assertSame(big.handle(), mid.handle());
            assertEquals(2, d.allocations);
            a.release(small);
            a.release(mid);
        }
    }

    @Test
    void inUseAndReservedAreCountedWithTheirPeaks() {
        FakeDriver d = new FakeDriver(1L << 30);
        try (CachingAllocator<Long> a = new CachingAllocator<>("fake", d, meter)) {
            var x = a.allocate(1000);
            var y = a.allocate(3000);
            assertEquals(4000, a.bytesInUse());
            assertEquals(1024 + 3072, a.bytesReserved());
            a.release(x);
            assertEquals(3000, a.bytesInUse(), "in use: what live buffers hold");
            assertEquals(1024 + 3072, a.bytesReserved(), "reserved: the cached block still counts");
            assertEquals(1024, a.bytesCached());
            assertEquals(4000, a.peakBytesInUse());
            a.resetPeaks();
            assertEquals(3000, a.peakBytesInUse());
            assertEquals(4096, a.peakBytesReserved());
            assertEquals(1024, a.emptyCache());
            assertEquals(3072, a.bytesReserved());
            assertEquals(1, d.frees);
            assertEquals(1, meter.snapshot().driverFrees());
            assertEquals(3072, d.held);
            a.release(y);
            assertThrows(IllegalStateException.class, () -> a.release(y), "a block is released once");
        }
    }

    @Test
    void aRefusedAllocationEmptiesTheCacheAndRetriesOnce() {
        FakeDriver d = new FakeDriver(8192);
        try (CachingAllocator<Long> a = new CachingAllocator<>("fake", d, meter)) {
            var x = a.allocate(4096);
            var y = a.allocate(2048);
            a.release(x);
            a.release(y); // 6144 cached, 2048 free at the driver
            var z = a.allocate(6000); // class 6144: no cached block of 6144..12288, the driver refuses, the cache goes back, the retry fits
            assertEquals(6000, a.bytesInUse());
            assertEquals(6144, a.bytesReserved());
            assertEquals(2, d.frees);
            var e = assertThrows(IllegalStateException.class, () -> a.allocate(4000));
            assertTrue(e.getMessage().contains("cannot allocate 4000 bytes") && e.getMessage().contains("6000 bytes are in use")
                    && e.getMessage().contains("6144 reserved") && e.getMessage().contains("out of memory"), e.getMessage());
            assertEquals(6000, a.bytesInUse(), "a failed allocation changes nothing");
            a.release(z);
        }
    }
}
