package org.d2v.dist;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.d2v.tensor.Tensor;

/**
 * Verifies that every rank holds the same state, bit for bit: each rank hashes the bits of every
 * tensor (parameters, teacher, optimizer moments), rank 0's hashes are broadcast, and each rank
 * compares its own. A debug check (it downloads the whole state), run every K steps on request.
 */
public final class ReplicaCheck {
    private ReplicaCheck() {}

    /** The outcome on this rank: the hash of the whole state, and how many tensors were compared. */
    public record Result(long checksum, int tensors) {
        public String hex() { return String.format("%016x", checksum); }
    }

    /** A 64-bit FNV-1a hash of each tensor's length and value bits, in the map's order. */
    public static long[] checksums(Map<String, Tensor> state) {
        long[] out = new long[state.size()];
        int i = 0;
        for (Tensor t : state.values()) {
            long h = mix(0xcbf29ce484222325L, t.numel());
            for (double v : t.toDoubles()) h = mix(h, Double.doubleToRawLongBits(v));
            out[i++] = h;
        }
        return out;
    }

    private static long mix(long h, long v) {
        for (int b = 0; b < 8; b++) {
            h ^= (v >>> (8 * b)) & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * Compares this rank's state with rank 0's; every rank must call it at the same point. Throws
     * an IllegalStateException on every rank if any rank differs (naming, on a rank that differs,
     * the tensors that do); returns the state's hash otherwise.
     */
    public static Result verify(Map<String, Tensor> state, Communicator comm, String when) {
        long[] mine = checksums(state);
        ByteBuffer bytes = ByteBuffer.allocate(8 * mine.length);
        for (long c : mine) bytes.putLong(c);
        byte[] root = bytes.array().clone();
        comm.broadcast(root, 0);
        ByteBuffer theirs = ByteBuffer.wrap(root);
        List<String> differ = new ArrayList<>();
        int i = 0;
        for (String name : state.keySet()) if (theirs.getLong() != mine[i++]) differ.add(name);
        long[] ranksDiffering = {differ.isEmpty() ? 0 : 1};
        comm.allReduceSum(ranksDiffering);
        if (!differ.isEmpty()) {
            throw new IllegalStateException(when + ": rank " + comm.rank() + " holds another state than rank 0 in " + differ.size() + " of "
                    + mine.length + " tensors, first " + differ.subList(0, Math.min(3, differ.size())));
        }
        if (ranksDiffering[0] > 0) {
            throw new IllegalStateException(when + ": " + ranksDiffering[0] + " of " + comm.size() + " ranks hold another state than rank 0");
        }
        long all = 0xcbf29ce484222325L;
        for (long c : mine) all = mix(all, c);
        return new Result(all, mine.length);
    }
}
