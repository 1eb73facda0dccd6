package org.d2v.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.RuntimeCounters;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The OpenCL device's caching allocator and its uploads that do not wait, on a real queue. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClMemoryTest {
    private OpenClDevice dev;

    @BeforeAll
    void open() { dev = (OpenClDevice) KernelTestBase.openOrSkip("opencl"); }

    @AfterAll
    void close() { if (dev != null) dev.close(); }

    @Test
    void uploadsQueueWithoutWaitingAndArriveInOrder() {
        int n = 1000;
        try (Tensor t = Tensor.empty(dev, DType.F32, n)) {
            List<Tensor> others = new ArrayList<>();
            dev.resetCounters();
            double[] last = null;
            for (int round = 0; round < 50; round++) {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = round * 1000 + i;
                t.copyFrom(v); // the same buffer again and again: each copy lands after the one before
                others.add(Tensor.of(dev, DType.F32, Shape.of(n), v));
                last = v;
            }
            int[] ids = new int[3 * n];
            for (int i = 0; i < ids.length; i++) ids[i] = i - n;
            Tensor ints = Tensor.ofInts(dev, Shape.of(ids.length), ids);
            RuntimeCounters c = dev.counters();
            assertEquals(0, c.hostSyncs(), "uploads do not wait: " + c);
            assertEquals(100L * 4 * n + 4L * ids.length, c.bytesUploaded());
            assertArrayEquals(last, t.toDoubles(), 0.0);
            assertEquals(1, dev.counters().hostSyncs(), "the download waits, once");
            for (int round = 0; round < 50; round++) assertEquals(round * 1000 + 7, others.get(round).toDoubles()[7], 0.0);
            assertArrayEquals(ids, ints.toInts());
            ints.close();
            others.forEach(Tensor::close);
        }
    }

    @Test
    void anUploadLargerThanAStagingSlotGoesInChunks() {
        int n = 3_000_001; // 12 MB, more than one 8 MiB slot
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i % 4097;
        try (Tensor t = Tensor.of(dev, DType.F32, Shape.of(n), v)) {
            assertArrayEquals(v, t.toDoubles(), 0.0);
        }
    }

    @Test
    void closedBuffersAreReusedAndTheCacheCanBeEmptied() {
        int[] sizes = {1000, 77, 300_000, 1000, 5};
        for (int round = 0; round < 2; round++) {
            if (round == 1) dev.resetCounters();
            List<Tensor> step = new ArrayList<>();
            for (int s : sizes) step.add(Tensor.zeros(dev, DType.F32, s));
            assertEquals(77, step.get(1).buffer().length(), "a buffer reports what was asked for");
            step.forEach(Tensor::close);
        }
        RuntimeCounters c = dev.counters();
        assertEquals(0, c.driverAllocations(), "the second round is served from the cache: " + c);
        assertEquals(0, c.driverFrees());
        assertTrue(dev.bytesReserved() > dev.bytesInUse(), "the closed blocks stay reserved");
        long cached = dev.allocator().bytesCached();
        assertTrue(cached >= 4L * (1000 + 77 + 300_000 + 1000 + 5), "cached " + cached);
        long reserved = dev.bytesReserved();
        assertEquals(cached, dev.allocator().emptyCache());
        assertEquals(reserved - cached, dev.bytesReserved());
        assertTrue(dev.counters().driverFrees() >= 4, dev.counters().toString());
        assertTrue(dev.peakBytesReserved() >= reserved);
    }
}
