package org.d2v.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.dist.DistOptions;
import org.d2v.dist.MpiCommunicator;
import org.d2v.jni.Mpi;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * All-reduce (sum) bandwidth over MPI between the ranks of one job (make bench-dist: 2 ranks on
 * this machine), float32 in place in direct buffers, 4 KB to 256 MB. For each size: the best of
 * {@value #REPEATS} timed rounds, each a barrier and then enough all-reduces to run about a
 * quarter of a second. Algorithmic bandwidth = bytes / time; bus bandwidth = algorithmic ×
 * 2(n−1)/n (NCCL's convention: what each link carries in a ring all-reduce). Measured twice: the
 * blocking MPI_Allreduce (no timeout) and the nonblocking call polled by d2v's watchdog (the
 * default 600 s timeout), to show what the watchdog costs. A last table runs
 * {@link MpiCommunicator#allReduceSum(Tensor)} on reference-device tensors, the host staging path
 * that OpenCL and reference devices use. Rank 0 writes the markdown.
 *
 * <pre>usage: mpirun -np 2 java -cp benchmarks.jar org.d2v.bench.AllReduceBench [--out file] [--max-mb 256]</pre>
 */
public final class AllReduceBench {
    private static final int REPEATS = 3;
    private static final double ROUND_SECONDS = 0.25;

    private AllReduceBench() {}

    record Row(long bytes, double blockingSeconds, double watchdogSeconds) {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of("bench/results/allreduce-latest.md");
        long maxBytes = 256L << 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--max-mb" -> maxBytes = Long.parseLong(args[++i]) << 20;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        MpiCommunicator comm = MpiCommunicator.init(DistOptions.defaults());
        int n = comm.size();
        ByteBuffer buf = ByteBuffer.allocateDirect((int) maxBytes).order(ByteOrder.nativeOrder());
        checkCorrect(comm, buf, maxBytes / 4);
        List<Row> rows = new ArrayList<>();
        for (long bytes = 4096; bytes <= maxBytes; bytes *= 4) {
            Row r = new Row(bytes, time(comm, buf, bytes / 4, 0), time(comm, buf, bytes / 4, DistOptions.DEFAULT_TIMEOUT_SECONDS));
            rows.add(r);
            if (comm.isRoot()) System.out.printf(Locale.ROOT, "%10d B  blocking %9.1f us  watchdog %9.1f us%n", bytes, 1e6 * r.blockingSeconds(), 1e6 * r.watchdogSeconds());
        }
        List<double[]> staged = new ArrayList<>();
        try (ReferenceDevice dev = new ReferenceDevice(DType.F32)) {
            for (long bytes : new long[] {1L << 20, 16L << 20, 64L << 20}) {
                if (bytes > maxBytes) continue;
                staged.add(new double[] {bytes, timeTensor(comm, dev, (int) (bytes / 4))});
            }
        }
        if (comm.isRoot()) write(out, rows, staged, n);
        comm.close();
    }

    /** Integer-valued data first: a benchmark of a collective that moves nothing would be worthless. */
    private static void checkCorrect(MpiCommunicator comm, ByteBuffer buf, long count) {
        for (long i = 0; i < count; i++) buf.putFloat((int) (4 * i), (i % 1000) + comm.rank());
        comm.allReduceSum(buf, count, Mpi.Type.F32);
        int n = comm.size();
        for (long i = 0; i < count; i++) {
            float want = n * (i % 1000) + n * (n - 1) / 2f;
            if (buf.getFloat((int) (4 * i)) != want) throw new IllegalStateException("all-reduce wrong at " + i);
        }
        for (long i = 0; i < count; i++) buf.putFloat((int) (4 * i), 0); // zeros stay zeros: a timed sum never overflows
    }

    /** Seconds per all-reduce of {@code count} floats: best of the rounds, rank 0's clock after a barrier. */
    private static double time(MpiCommunicator comm, ByteBuffer buf, long count, double timeout) {
        Mpi.allReduceSum(buf, 0, count, Mpi.Type.F32, timeout); // warm-up
        double once = timedRound(comm, buf, count, timeout, 1);
        double[] reps = {Math.max(1, Math.min(2000, Math.ceil(ROUND_SECONDS / Math.max(once, 1e-7))))};
        comm.allReduceSum(reps); // every rank must run the same number: the ranks' mean estimate
        int iterations = (int) Math.ceil(reps[0] / comm.size());
        double best = Double.MAX_VALUE;
        for (int r = 0; r < REPEATS; r++) best = Math.min(best, timedRound(comm, buf, count, timeout, iterations));
        return best;
    }

    private static double timedRound(MpiCommunicator comm, ByteBuffer buf, long count, double timeout, int iterations) {
        comm.barrier();
        long t0 = System.nanoTime();
        for (int i = 0; i < iterations; i++) Mpi.allReduceSum(buf, 0, count, Mpi.Type.F32, timeout);
        double seconds = (System.nanoTime() - t0) / 1e9 / iterations;
        double[] mean = {seconds};
        comm.allReduceSum(mean);
        return mean[0] / comm.size();
    }

    private static double timeTensor(MpiCommunicator comm, ReferenceDevice dev, int count) {
        try (Tensor t = Tensor.of(dev, DType.F32, Shape.of(count), new double[count])) {
            comm.allReduceSum(t); // warm-up
            double best = Double.MAX_VALUE;
            for (int r = 0; r < REPEATS; r++) {
                comm.barrier();
                long t0 = System.nanoTime();
                comm.allReduceSum(t);
                double[] s = {(System.nanoTime() - t0) / 1e9};
                comm.allReduceSum(s);
                best = Math.min(best, s[0] / comm.size());
            }
            return best;
        }
    }

    private static String size(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MB" : (bytes >> 10) + " KB";
    }

    private static void write(Path out, List<Row> rows, List<double[]> staged, int n) throws Exception {
        double bus = 2.0 * (n - 1) / n;
        StringBuilder md = new StringBuilder("# All-reduce bandwidth over MPI\n\n");
        md.append("Measured ").append(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")))
                .append(" by `make bench-dist` (bench/src/main/java/org/d2v/bench/AllReduceBench.java): ").append(n)
                .append(" ranks on one machine (").append(machineCpus()).append(" CPUs, each rank bound by mpirun to ")
                .append(Runtime.getRuntime().availableProcessors()).append("; load average ")
                .append(load()).append(" at the end), ").append(Mpi.libraryVersion().split(", package")[0])
                .append(", float32 sum in place, direct buffers. Time per all-reduce = best of ").append(REPEATS)
                .append(" rounds of about ").append(ROUND_SECONDS).append(" s, the ranks' mean. algbw = bytes / time; busbw = algbw × 2(n−1)/n = algbw × ")
                .append(String.format(Locale.ROOT, "%.2f", bus)).append(". GB = 10⁹ bytes.\n\n");
        md.append("*blocking*: MPI_Allreduce, no timeout. *watchdog*: d2v's default (MPI_Iallreduce polled with MPI_Test, ")
                .append("sleeping between polls after a short spin, abort after ").append((int) DistOptions.DEFAULT_TIMEOUT_SECONDS).append(" s).\n\n");
        md.append("| size | blocking µs | algbw GB/s | busbw GB/s | watchdog µs | algbw GB/s | busbw GB/s |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            double a1 = r.bytes() / r.blockingSeconds() / 1e9, a2 = r.bytes() / r.watchdogSeconds() / 1e9;
            md.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %.3f | %.1f | %.3f | %.3f |%n", size(r.bytes()),
                    1e6 * r.blockingSeconds(), a1, a1 * bus, 1e6 * r.watchdogSeconds(), a2, a2 * bus));
        }
        if (!staged.isEmpty()) {
            md.append("\nThe host staging path (MpiCommunicator.allReduceSum(Tensor) on reference-device float32 tensors: ")
                    .append("download, all-reduce with the watchdog, upload, in chunks of 4 Mi elements), the path of OpenCL and reference devices:\n\n");
            md.append("| size | ms | algbw GB/s |\n|---:|---:|---:|\n");
            for (double[] s : staged) {
                md.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f |%n", size((long) s[0]), 1e3 * s[1], s[0] / s[1] / 1e9));
            }
        }
        md.append("\nShared memory between processes on one machine: these figures are this machine's, not a network's or NVLink's.\n");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.writeString(tmp, md.toString());
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("wrote " + out);
    }

    private static long machineCpus() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor")).count();
        } catch (Exception e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "unknown";
        }
    }
}
