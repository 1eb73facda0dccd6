package org.d2v.jni;

import java.util.List;

/**
 * NCCL collectives on CUDA streams, through {@code libd2v_gpu.so}, which opens
 * {@code libnccl.so.2} ({@value #LIBRARY_PROPERTY} names others) at run time.
 *
 * <p>Bootstrap as llm.c does: rank 0 makes a {@link #uniqueId()}, every rank receives it over MPI
 * and calls {@link #initRank}. Collectives are queued on the given stream and return at once;
 * a failure of a peer shows up later in {@link Comm#asyncError()}. Pointers are raw device
 * addresses, the stream a raw CUstream; the caller's thread must have the device's context current.
 */
public final class Nccl {
    /** Comma-separated file names to try instead of libnccl.so.2. */
    public static final String LIBRARY_PROPERTY = "d2v.nccl.library";
    static final List<String> DEFAULT_NAMES = List.of("libnccl.so.2");
    public static final int UNIQUE_ID_BYTES = 128;

    /** Element types (ncclDataType_t values). */
    public enum Type {
        I32(2, 4), F32(7, 4), F64(8, 8), BF16(9, 2);

        final int code;
        private final int bytes;

        Type(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        public int bytes() { return bytes; }
    }

    private static final int SUM = 0;
    private static String failure;
    private static boolean probed;

    private Nccl() {}

    /** Loads NCCL once; null when loaded, else the reason. */
    public static synchronized String unavailableReason() {
        if (!probed) probe(VendorLibrary.names(LIBRARY_PROPERTY, DEFAULT_NAMES));
        return failure;
    }

    /** Loads the first of {@code names} that opens, replacing any earlier load (tests use it to switch libraries). */
    static synchronized String probe(String[] names) {
        probed = true;
        NativeLibraries.Status gpu = NativeLibraries.load(NativeLibraries.Library.GPU);
        if (!gpu.loaded()) {
            failure = gpu.describe();
        } else {
            String why = nativeLoad(names);
            failure = why == null ? null : "library absent: " + why;
        }
        return failure;
    }

    /** "NCCL: loaded libnccl.so.2 (2.21.5)", "NCCL: not built (...)" or "NCCL: library absent: ...". */
    public static String describe() {
        String why = unavailableReason();
        if (why == null) return "NCCL: loaded " + nativeLoadedName() + " (" + version() + ")";
        return why.startsWith("library absent") ? "NCCL: " + why : "NCCL: not built (" + why + ")";
    }

    private static void require() {
        String why = unavailableReason();
        if (why != null) throw new NativeUnavailableException("NCCL unavailable: " + why);
    }

    /** e.g. "2.21.5" (NCCL encodes major·10000 + minor·100 + patch since 2.9). */
    public static String version() {
        require();
        int v = nativeVersion();
        return v >= 10000 ? v / 10000 + "." + v / 100 % 100 + "." + v % 100 : v / 1000 + "." + v / 100 % 10 + "." + v % 100;
    }

    /** A new unique id (on rank 0), to broadcast to every rank. */
    public static byte[] uniqueId() {
        require();
        return nativeUniqueId();
    }

    /** Joins the communicator of {@code nranks} named by {@code id}; blocks until every rank has joined. */
    public static Comm initRank(int nranks, byte[] id, int rank) {
        require();
        if (id == null || id.length != UNIQUE_ID_BYTES) throw new IllegalArgumentException("nccl: a unique id has " + UNIQUE_ID_BYTES + " bytes");
        if (rank < 0 || rank >= nranks) throw new IllegalArgumentException("nccl: rank " + rank + " of " + nranks);
        return new Comm(nativeInitRank(nranks, id, rank), rank, nranks);
    }

    /** One NCCL communicator. */
    public static final class Comm implements AutoCloseable {
        private long comm;
        private final int rank;
        private final int size;

        private Comm(long comm, int rank, int size) {
            this.comm = comm;
            this.rank = rank;
            this.size = size;
        }

        public int rank() { return rank; }

        public int size() { return size; }

        private long live() {
            if (comm == 0) throw new IllegalStateException("nccl: communicator used after close");
            return comm;
        }

        /** Queues recv = Σ over ranks of send ({@code count} elements; send == recv is in place). */
        public synchronized void allReduceSum(long send, long recv, long count, Type type, long stream) {
            nativeAllReduce(live(), send, recv, count, type.code, SUM, stream);
        }

        /** Queues recv = send of rank {@code root}. */
        public synchronized void broadcast(long send, long recv, long count, Type type, int root, long stream) {
            if (root < 0 || root >= size) throw new IllegalArgumentException("nccl: broadcast root " + root + " of " + size);
            nativeBroadcast(live(), send, recv, count, type.code, root, stream);
        }

        /** Null while healthy, else NCCL's text for the communicator's asynchronous error. */
        public synchronized String asyncError() {
            long c = comm;
            if (c == 0) return null;
            int e = nativeAsyncError(c);
            return e == 0 ? null : nativeErrorString(e) + " (" + e + ")";
        }

        /** Ends the communicator without waiting for pending work (after a failure). */
        public synchronized void abort() {
            if (comm == 0) return;
            long c = comm;
            comm = 0;
            nativeDestroy(c, true);
        }

        @Override
        public synchronized void close() {
            if (comm == 0) return;
            long c = comm;
            comm = 0;
            nativeDestroy(c, false);
        }
    }

    static native String nativeLoad(String[] names);

    static native String nativeLoadedName();

    static native int nativeVersion();

    static native byte[] nativeUniqueId();

    static native long nativeInitRank(int nranks, byte[] id, int rank);

    static native void nativeAllReduce(long comm, long send, long recv, long count, int type, int op, long stream);

    static native void nativeBroadcast(long comm, long send, long recv, long count, int type, int root, long stream);

    static native int nativeAsyncError(long comm);

    static native String nativeErrorString(int result);

    static native void nativeDestroy(long comm, boolean abort);
}
