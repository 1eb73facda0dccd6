package org.d2v.dist;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The replica check, seen from rank 1 of two: its state is compared with what rank 0 broadcast,
 * and one flipped bit anywhere is found and named. (The two-process run is in DataParallelTrainingTest.)
 */
class ReplicaCheckTest {
    /**
     * Rank 1 of a job whose rank 0 holds {@code rootState} and in which {@code othersDiffering} further
     * ranks report a difference of their own.
     */
    private static Communicator rankOneSeeing(Map<String, Tensor> rootState, int othersDiffering) {
        long[] root = ReplicaCheck.checksums(rootState);
        return new Communicator() {
            @Override public int rank() { return 1; }
            @Override public int size() { return 2; }
            @Override public int localRank() { return 1; }
            @Override public String describe() { return "fake rank 1 of 2"; }
            @Override public void allReduceSum(Tensor t) { throw new UnsupportedOperationException(); }
            @Override public void allReduceSum(double[] values) { throw new UnsupportedOperationException(); }
            @Override public void allReduceSum(long[] values) { values[0] += othersDiffering; }
            @Override public void broadcast(Tensor t, int r) { throw new UnsupportedOperationException(); }
            @Override public void broadcast(byte[] bytes, int r) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                for (long c : root) b.putLong(c);
            }
            @Override public void barrier() {}
            @Override public RuntimeException abort(String reason) { throw new IllegalStateException(reason); }
            @Override public void close() {}
        };
    }

    private static Map<String, Tensor> state(ReferenceDevice dev, float flip) {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("student.w", Tensor.of(dev, DType.F32, Shape.of(3), new double[] {1, 2, 3}));
        s.put("adam.v.w", Tensor.of(dev, DType.F32, Shape.of(3), new double[] {1e-8, flip, 3e-8}));
        return s;
    }

    @Test
    void identicalStatePassesAndOneBitOffIsNamed() {
        ReferenceDevice dev = new ReferenceDevice();
        float v = 2e-8f;
        Map<String, Tensor> root = state(dev, v);
        ReplicaCheck.Result same = ReplicaCheck.verify(state(dev, v), rankOneSeeing(root, 0), "after step 4");
        assertEquals(2, same.tensors());
        float nextUp = Math.nextUp(v); // one bit of the mantissa
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ReplicaCheck.verify(state(dev, nextUp), rankOneSeeing(root, 0), "after step 4"));
        assertEquals("after step 4: rank 1 holds another state than rank 0 in 1 of 2 tensors, first [adam.v.w]", e.getMessage());
        IllegalStateException other = assertThrows(IllegalStateException.class,
                () -> ReplicaCheck.verify(state(dev, v), rankOneSeeing(root, 1), "after step 4"));
        assertEquals("after step 4: 1 of 2 ranks hold another state than rank 0", other.getMessage(), "every rank stops, not only the one that differs");
        assertNotEquals(same.checksum(), ReplicaCheck.verify(state(dev, nextUp), rankOneSeeing(state(dev, nextUp), 0), "x").checksum());
    }
}
