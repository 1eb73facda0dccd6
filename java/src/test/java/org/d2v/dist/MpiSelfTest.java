package org.d2v.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.jni.Mpi;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The program {@link MpiLaunchTest} starts under {@code mpirun -np 2}. Mode "collectives" checks
 * every binding and the communicator and prints "rank R: all N checks passed"; the other modes
 * make one rank fail in one way while the other waits in a collective, to see the job end:
 * "abort" (Communicator.abort), "kill" (SIGKILL), "raise" (an exception out of the job, which
 * Communicators.run turns into an abort), "hang" (a rank
 * that sleeps while its peer's collective times out). Before failing, the failing rank prints
 * "failing at <epoch ms>" so that the test can measure how long the job took to end.
 */
public final class MpiSelfTest {
    private static int checks;
    private static int rank;

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "collectives";
        Map<String, String> env = System.getenv();
        DistOptions options = DistOptions.fromEnvironment(env).withTimeout(mode.equals("hang") ? 2 : 60);
        Launch launch = Launch.detect(env);
        Communicator comm = Communicators.open(new ReferenceDevice(DType.F32), launch, options);
        rank = comm.rank();
        say(comm.describe());
        Communicators.run(comm, c -> {
            switch (mode) {
                case "collectives" -> collectives(c, launch);
                case "abort", "kill", "raise", "hang" -> fail(c, mode);
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
            say("all " + checks + " checks passed");
        });
    }

    private static void say(String line) {
        System.out.println("rank " + rank + ": " + line);
        System.out.flush();
    }

    private static void check(boolean ok, String what) {
        checks++;
        if (!ok) throw new AssertionError("rank " + rank + ": " + what);
    }

    private static void collectives(Communicator comm, Launch launch) throws Exception {
        int size = comm.size();
        check(size == 2, "size " + size + ", expected 2");
        check(comm.rank() == launch.rank() && size == launch.size(), "MPI says rank " + comm.rank() + " of " + size + ", the launcher " + launch.describe());
        check(comm.localRank() == comm.rank(), "local rank " + comm.localRank() + " of rank " + comm.rank() + " on one node");
        check(comm instanceof MpiCommunicator, "picked " + comm.getClass().getSimpleName() + " for a reference device under mpirun");
        MpiCommunicator mpi = (MpiCommunicator) comm;

        // Integer-valued floats: every partial sum is exact, so the result must be exactly this.
        for (int n : new int[] {1, 1000, 3_000_000}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (i % 4096) * (rank + 1);
            mpi.allReduceSum(x);
            int bad = 0;
            for (int i = 0; i < n; i++) if (x[i] != (i % 4096) * 3f) bad++;
            check(bad == 0, "all-reduce of " + n + " integer floats: " + bad + " wrong");
        }
        say("all-reduce float[] sizes 1, 1000, 3000000: exact");

        // A direct buffer in place, at an offset, left and right of it untouched.
        int n = 2_500_001;
        ByteBuffer direct = ByteBuffer.allocateDirect(4 * (n + 2)).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n + 2; i++) direct.putFloat(4 * i, i + rank);
        Mpi.allReduceSum(direct, 4, n, Mpi.Type.F32, 60);
        int bad = 0;
        for (int i = 1; i <= n; i++) if (direct.getFloat(4 * i) != 2f * i + 1) bad++;
        check(bad == 0 && direct.getFloat(0) == rank && direct.getFloat(4 * (n + 1)) == n + 1 + rank,
                "direct-buffer all-reduce at an offset: " + bad + " wrong or its neighbours changed");
        say("all-reduce of a direct buffer (2500001 floats at byte offset 4): exact, neighbours untouched");

        // Random floats: with two ranks the sum is one correctly rounded float addition.
        Random[] rng = {new Random(11), new Random(12)};
        float[][] parts = new float[2][1_000_000];
        for (int r = 0; r < 2; r++) for (int i = 0; i < parts[r].length; i++) parts[r][i] = (float) rng[r].nextGaussian();
        float[] y = parts[rank].clone();
        mpi.allReduceSum(y);
        double worst = 0;
        int notRounded = 0;
        for (int i = 0; i < y.length; i++) {
            float expected = parts[0][i] + parts[1][i];
            if (Float.floatToIntBits(y[i]) != Float.floatToIntBits(expected)) notRounded++;
            double exact = (double) parts[0][i] + parts[1][i];
            if (exact != 0) worst = Math.max(worst, Math.abs(y[i] - exact) / Math.abs(exact));
        }
        check(notRounded == 0, notRounded + " of 1000000 random sums differ from the float32 sum");
        check(worst <= 0x1p-24, "largest relative error " + worst + " above half an ulp");
        say(String.format("all-reduce of 1000000 random floats: bitwise equal to float32 a+b, largest relative error vs exact %.3g (half ulp %.3g)",
                worst, 0x1p-24));

        double[] d = {0.5 * (rank + 1), -1e300 * rank, 1e-300};
        comm.allReduceSum(d);
        check(d[0] == 1.5 && d[1] == -1e300 && d[2] == 2e-300, "double all-reduce " + java.util.Arrays.toString(d));
        long[] l = {1L << 40 | rank, Long.MAX_VALUE / 4 * rank};
        comm.allReduceSum(l);
        check(l[0] == ((1L << 41) | 1) && l[1] == Long.MAX_VALUE / 4, "long all-reduce " + java.util.Arrays.toString(l));
        int[] ints = {rank, -7};
        Mpi.allReduceSum(ints, 60);
        check(ints[0] == 1 && ints[1] == -14, "int all-reduce");
        byte[] bytes = {(byte) (rank + 1), 100};
        Mpi.allReduceSum(bytes, 60);
        check(bytes[0] == 3 && bytes[1] == (byte) 200, "int8 all-reduce (wraps)");
        say("all-reduce double, long, int, int8: exact");

        // Broadcast from rank 1.
        byte[] id = new byte[128];
        if (rank == 1) for (int i = 0; i < id.length; i++) id[i] = (byte) (i * 7 + 3);
        comm.broadcast(id, 1);
        boolean same = true;
        for (int i = 0; i < id.length; i++) same &= id[i] == (byte) (i * 7 + 3);
        check(same, "byte broadcast from rank 1");
        float[] f = new float[1_000_003];
        if (rank == 0) for (int i = 0; i < f.length; i++) f[i] = i * 0.25f;
        Mpi.broadcast(f, 0, 60);
        bad = 0;
        for (int i = 0; i < f.length; i++) if (f[i] != i * 0.25f) bad++;
        check(bad == 0, "float broadcast from rank 0: " + bad + " wrong");
        try {
            comm.broadcast(id, 2);
            check(false, "broadcast from rank 2 of 2 accepted");
        } catch (IllegalArgumentException e) {
            check(e.getMessage().contains("root 2"), "bad root message: " + e.getMessage());
        }
        say("broadcast of 128 bytes from rank 1 and 1000003 floats from rank 0: exact; root 2 refused");

        // Barrier: rank 1 arrives 400 ms late, so rank 0 must wait about that long. A first barrier
        // starts both clocks together (on a loaded machine rank 0 may reach this point much later).
        comm.barrier();
        if (rank == 1) Thread.sleep(400);
        long t0 = System.nanoTime();
        comm.barrier();
        double waited = (System.nanoTime() - t0) / 1e6;
        if (rank == 0) check(waited >= 300, "rank 0 left the barrier after " + waited + " ms, before rank 1 arrived (400 ms late)");
        say(String.format("barrier: waited %.0f ms%s", waited, rank == 0 ? " for the late rank 1" : ""));

        tensors(comm, new ReferenceDevice(DType.F32), "reference");
        Backend opencl = Backends.find("opencl");
        Backend.Probe probe = opencl.probe();
        boolean haveOpenCl = probe.available();
        long[] both = {haveOpenCl ? 1 : 0};
        comm.allReduceSum(both); // both ranks must take the same path, or the collectives would not match
        if (both[0] == 2) {
            try (Device dev = opencl.open()) {
                tensors(comm, dev, "opencl");
            }
        } else {
            say("opencl: skipped (" + probe.detail() + ")");
        }
        check(!Mpi.errorString(1).isBlank(), "MPI error string for code 1");
    }

    /** The communicator on a device's tensors: a whole tensor across a chunk boundary, a view, a broadcast. */
    private static void tensors(Communicator comm, Device dev, String name) {
        int n = MpiCommunicator.CHUNK + 1001;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i % 997 + rank;
        try (Tensor t = Tensor.of(dev, DType.F32, Shape.of(n), v)) {
            comm.allReduceSum(t);
            double[] got = t.toDoubles();
            int bad = 0;
            for (int i = 0; i < n; i++) if (got[i] != 2 * (i % 997) + 1) bad++;
            check(bad == 0, name + ": tensor all-reduce of " + n + " floats: " + bad + " wrong");
        }
        double[] w = new double[100];
        for (int i = 0; i < w.length; i++) w[i] = i + 1000 * rank;
        try (Tensor t = Tensor.of(dev, DType.F32, Shape.of(100), w)) {
            comm.allReduceSum(t.view(10, Shape.of(20)));
            double[] got = t.toDoubles();
            boolean ok = true;
            for (int i = 0; i < 100; i++) ok &= got[i] == (i >= 10 && i < 30 ? 2 * i + 1000 : i + 1000 * rank);
            check(ok, name + ": all-reduce of a view changed the wrong elements");
            comm.broadcast(t, 1);
            got = t.toDoubles();
            ok = true;
            for (int i = 0; i < 100; i++) ok &= got[i] == (i >= 10 && i < 30 ? 2 * i + 1000 : i + 1000);
            check(ok, name + ": tensor broadcast from rank 1");
        }
        say(name + ": tensor all-reduce (" + n + " floats, across a staging chunk), view all-reduce, broadcast: exact");
    }

    /** Rank 1 fails; rank 0 waits in an all-reduce that only the failure can end. */
    private static void fail(Communicator comm, String mode) throws Exception {
        if (rank == 0) {
            double[] x = {1};
            comm.allReduceSum(x);
            say("the all-reduce completed, which it must not");
            System.exit(2);
        }
        Thread.sleep(300); // let rank 0 enter the all-reduce
        say("failing at " + System.currentTimeMillis() + " (" + mode + ")");
        switch (mode) {
            case "abort" -> throw comm.abort("deliberate abort from MpiSelfTest");
            case "kill" -> new ProcessBuilder("kill", "-9", String.valueOf(ProcessHandle.current().pid())).start().waitFor();
            case "raise" -> throw new IllegalStateException("deliberate uncaught exception from MpiSelfTest");
            case "hang" -> Thread.sleep(120_000);
            default -> throw new IllegalArgumentException(mode);
        }
        Thread.sleep(120_000);
    }
}
