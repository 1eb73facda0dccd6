package org.d2v.jni;

import java.nio.ByteBuffer;

/**
 * The MPI C API for d2v, over {@code libd2v_mpi.so} (built by {@code make native} where
 * {@code mpicc} and the MPI headers exist: Debian's {@code openmpi-bin libopenmpi-dev}).
 *
 * <p>One MPI per process: {@link #init} once, {@link #shutdown} at the end. Errors come back as
 * {@link MpiException} with MPI's error string (MPI_COMM_WORLD uses MPI_ERRORS_RETURN), never as
 * a killed process. Collectives work in place on direct {@link ByteBuffer}s (no copy) or on Java
 * arrays (copied around the call); each takes a timeout in seconds (0 or less: wait forever)
 * after which it throws an {@link MpiException} that {@linkplain MpiException#timedOut() timed out}.
 */
public final class Mpi {
    /** MPI's thread support levels, weakest first. */
    public enum ThreadLevel { SINGLE, FUNNELED, SERIALIZED, MULTIPLE }

    /** Element types of the collectives (the codes of native/mpi/d2v_mpi.c). */
    public enum Type {
        F32(4), F64(8), I32(4), I64(8), I8(1);

        private final int bytes;

        Type(int bytes) { this.bytes = bytes; }

        public int bytes() { return bytes; }
    }

    private static volatile boolean loaded;
    private static int[] ranks; // world rank, world size, local rank, local size

    private Mpi() {}

    private static void lib() {
        if (!loaded) {
            NativeLibraries.require(NativeLibraries.Library.MPI);
            loaded = true;
        }
    }

    /** Whether libd2v_mpi loads here (null) or why not. */
    public static String unavailableReason() {
        NativeLibraries.Status s = NativeLibraries.load(NativeLibraries.Library.MPI);
        return s.loaded() ? null : s.describe();
    }

    /** Initialises MPI asking for {@code required} thread support; returns what the library provides. */
    public static synchronized ThreadLevel init(ThreadLevel required) {
        lib();
        ThreadLevel provided = ThreadLevel.values()[nativeInit(required.ordinal())];
        ranks = nativeRanks();
        return provided;
    }

    /** True between {@link #init} and {@link #shutdown}. */
    public static boolean initialized() {
        return unavailableReason() == null && nativeInitialized();
    }

    /**
     * MPI_Finalize: every rank must call it at the end (a rank that exits without it fails the
     * job). With {@code timeoutSeconds} > 0 the ranks first meet in a barrier of their own, which
     * throws a timed-out {@link MpiException} if the others do not arrive (they are still in a
     * collective, or gone): finalizing then would hang.
     */
    public static synchronized void shutdown(double timeoutSeconds) {
        lib();
        nativeFinalize(timeoutSeconds);
    }

    private static int[] ranks() {
        int[] r = ranks;
        if (r == null) throw new IllegalStateException("mpi: not initialised (call Mpi.init first)");
        return r;
    }

    public static int rank() { return ranks()[0]; }

    public static int size() { return ranks()[1]; }

    /** The rank among the processes on this node (MPI_COMM_TYPE_SHARED): picks the GPU. */
    public static int localRank() { return ranks()[2]; }

    public static int localSize() { return ranks()[3]; }

    /** e.g. "Open MPI v4.1.4, package: Debian OpenMPI" (first line of MPI_Get_library_version). */
    public static String libraryVersion() {
        lib();
        return nativeLibraryVersion();
    }

    public static String processorName() {
        lib();
        return nativeProcessorName();
    }

    public static String errorString(int code) {
        lib();
        return nativeErrorString(code);
    }

    // ---- collectives -------------------------------------------------------------------------------

    /** Sums {@code count} elements at {@code byteOffset} of a direct buffer over all ranks, in place. */
    public static void allReduceSum(ByteBuffer direct, long byteOffset, long count, Type type, double timeoutSeconds) {
        lib();
        nativeAllReduceBuffer(direct, byteOffset, count, type.ordinal(), timeoutSeconds);
    }

    public static void allReduceSum(float[] a, double timeoutSeconds) { array(a, a.length, Type.F32, -1, timeoutSeconds); }

    public static void allReduceSum(double[] a, double timeoutSeconds) { array(a, a.length, Type.F64, -1, timeoutSeconds); }

    public static void allReduceSum(int[] a, double timeoutSeconds) { array(a, a.length, Type.I32, -1, timeoutSeconds); }

    public static void allReduceSum(long[] a, double timeoutSeconds) { array(a, a.length, Type.I64, -1, timeoutSeconds); }

    public static void allReduceSum(byte[] a, double timeoutSeconds) { array(a, a.length, Type.I8, -1, timeoutSeconds); }

    /** Copies {@code count} elements at {@code byteOffset} from rank {@code root} to every rank. */
    public static void broadcast(ByteBuffer direct, long byteOffset, long count, Type type, int root, double timeoutSeconds) {
        lib();
        nativeBroadcastBuffer(direct, byteOffset, count, type.ordinal(), root, timeoutSeconds);
    }

    public static void broadcast(float[] a, int root, double timeoutSeconds) { array(a, a.length, Type.F32, root, timeoutSeconds); }

    public static void broadcast(double[] a, int root, double timeoutSeconds) { array(a, a.length, Type.F64, root, timeoutSeconds); }

    public static void broadcast(int[] a, int root, double timeoutSeconds) { array(a, a.length, Type.I32, root, timeoutSeconds); }

    public static void broadcast(long[] a, int root, double timeoutSeconds) { array(a, a.length, Type.I64, root, timeoutSeconds); }

    public static void broadcast(byte[] a, int root, double timeoutSeconds) { array(a, a.length, Type.I8, root, timeoutSeconds); }

    private static void array(Object a, int length, Type type, int root, double timeoutSeconds) {
        lib();
        if (root < 0) nativeAllReduceArray(a, 0, length, type.ordinal(), timeoutSeconds);
        else nativeBroadcastArray(a, 0, length, type.ordinal(), root, timeoutSeconds);
    }

    public static void barrier(double timeoutSeconds) {
        lib();
        nativeBarrier(timeoutSeconds);
    }

    /**
     * Ends the whole job: prints "d2v: rank R of N aborting the job (exit code C): message" to
     * stderr and calls MPI_Abort, after which the launcher kills every rank. Never returns.
     */
    public static void abort(int exitCode, String message) {
        lib();
        nativeAbort(exitCode, message);
        throw new IllegalStateException("unreachable: MPI_Abort returned");
    }

    private static native int nativeInit(int threadLevel);

    private static native boolean nativeInitialized();

    private static native void nativeFinalize(double timeout);

    private static native int[] nativeRanks();

    private static native String nativeLibraryVersion();

    private static native String nativeProcessorName();

    private static native String nativeErrorString(int code);

    private static native void nativeAllReduceBuffer(ByteBuffer buffer, long byteOffset, long count, int type, double timeout);

    private static native void nativeBroadcastBuffer(ByteBuffer buffer, long byteOffset, long count, int type, int root, double timeout);

    private static native void nativeAllReduceArray(Object array, int offset, int length, int type, double timeout);

    private static native void nativeBroadcastArray(Object array, int offset, int length, int type, int root, double timeout);

    private static native void nativeBarrier(double timeout);

    private static native void nativeAbort(int code, String message);
}
