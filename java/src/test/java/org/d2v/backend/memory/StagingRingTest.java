package org.d2v.backend.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.RuntimeMeter;
import org.junit.jupiter.api.Test;

/** The upload staging ring over fake fences that pass when the test says so. */
class StagingRingTest {
    private static final class Fence {
        boolean passed;
        boolean released;
    }

    private static final class FakeHost implements StagingRing.Host<Fence> {
        int allocated, freed, awaited;

        @Override public ByteBuffer allocate(int bytes) { allocated++; return ByteBuffer.allocate(bytes); }

        @Override public void free(ByteBuffer b) { freed++; }

        @Override public boolean passed(Fence f) { return f.passed; }

        @Override public void await(Fence f) { awaited++; f.passed = true; }

        @Override public void release(Fence f) { f.released = true; }
    }

    private final RuntimeMeter meter = new RuntimeMeter();

    @Test
    void aSlotIsReusedOnceItsCopyHasPassedAndNothingWaits() {
        FakeHost host = new FakeHost();
        try (StagingRing<Fence> ring = new StagingRing<>(host, 1 << 20, 1 << 18, meter)) {
            var a = ring.acquire(1000);
            Fence fa = new Fence();
            ring.queued(a, fa);
            var b = ring.acquire(1000); // a is in flight: a second slot
            assertTrue(a != b);
            Fence fb = new Fence();
            ring.queued(b, fb);
            fa.passed = true;
            assertSame(a, ring.acquire(500), "the passed slot comes back");
            assertTrue(fa.released, "its fence is released");
            assertEquals(2, host.allocated);
            assertEquals(0, host.awaited);
            assertEquals(0, meter.snapshot().hostSyncs());
        }
    }

    @Test
    void theRingGrowsWhileEverythingIsInFlightAndWaitsOnlyAtItsCap() {
        FakeHost host = new FakeHost();
        int slot = StagingRing.MIN_SLOT_BYTES;
        List<Fence> fences = new ArrayList<>();
        try (StagingRing<Fence> ring = new StagingRing<>(host, 4L * slot, slot, meter)) {
            for (int i = 0; i < 4; i++) {
                Fence f = new Fence();
                fences.add(f);
                ring.queued(ring.acquire(100), f);
            }
            assertEquals(4, ring.slots());
            assertEquals(0, meter.snapshot().hostSyncs(), "four uploads in flight, no wait");
            ring.queued(ring.acquire(100), new Fence()); // the cap: waits for the oldest
            assertEquals(1, host.awaited);
            assertTrue(fences.get(0).passed && fences.get(0).released, "the oldest copy was waited for");
            assertEquals(1, meter.snapshot().hostSyncs());
            assertEquals(4, ring.slots());
        }
        assertEquals(host.allocated, host.freed, "closing frees every slot");
    }

    @Test
    void aBiggerChunkReplacesASmallFreeSlot() {
        FakeHost host = new FakeHost();
        int slot = StagingRing.MIN_SLOT_BYTES;
        try (StagingRing<Fence> ring = new StagingRing<>(host, 2L * slot, 2 * slot, meter)) {
            var a = ring.acquire(100);
            Fence done = new Fence();
            done.passed = true;
            ring.queued(a, done);
            var big = ring.acquire(2 * slot); // the small free slot is dropped to make room
            assertEquals(2 * slot, big.buffer().capacity());
            assertEquals(1, host.freed);
            assertEquals(1, ring.slots());
        }
    }
}
