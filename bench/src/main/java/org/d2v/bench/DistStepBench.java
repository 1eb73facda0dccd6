package org.d2v.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.dist.Communicator;
import org.d2v.dist.Communicators;
import org.d2v.dist.DataParallel;
import org.d2v.train.BatchSource;
import org.d2v.train.GeneratedSource;
import org.d2v.train.ModelFactory;
import org.d2v.train.Sharding;
import org.d2v.train.StepStats;
import org.d2v.train.TrainableModel;

/**
 * Step time of data-parallel pretraining: the same global batch trained by 1 rank, by 1 rank with
 * --update-freq 2, and by N ranks (make bench-dist runs each under mpirun, then {@code --report}
 * writes bench/results/dist-step-latest.md). Each run times {@code --steps} updates after
 * {@code --warmup}, ending with a read of the last step's statistics (the device has finished
 * every update then); rank 0 appends one line to the TSV, with the host time spent in the
 * gradient all-reduce and the load average.
 *
 * <pre>usage: mpirun -np N java -cp benchmarks.jar org.d2v.bench.DistStepBench --preset image-tiny --backend opencl
 *        --batch 8 [--update-freq F] [--steps 6] [--warmup 2] --tsv file
 *      java -cp benchmarks.jar org.d2v.bench.DistStepBench --report file.tsv --out file.md</pre>
 */
public final class DistStepBench {
    private DistStepBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>(Map.of("--preset", "image-tiny", "--backend", "opencl", "--steps", "6", "--warmup", "2"));
        for (int i = 0; i + 1 < args.length; i += 2) o.put(args[i], args[i + 1]);
        if (o.containsKey("--report")) {
            report(Path.of(o.get("--report")), Path.of(o.getOrDefault("--out", "bench/results/dist-step-latest.md")));
            return;
        }
        Data2VecConfig cfg = Presets.named(o.get("--preset"));
        if (o.containsKey("--batch")) cfg = cfg.withBatchSize(Integer.parseInt(o.get("--batch")));
        int steps = Integer.parseInt(o.get("--steps")), warmup = Integer.parseInt(o.get("--warmup"));
        int freq = Integer.parseInt(o.getOrDefault("--update-freq", "1"));
        Path tsv = Path.of(o.getOrDefault("--tsv", "bench/results/dist-step.tsv"));
        Data2VecConfig config = cfg;
        try (Device device = Backends.open(o.get("--backend"))) {
            Communicator comm = Communicators.open(device);
            Communicators.run(comm, c -> {
                DataParallel dp = new DataParallel(c);
                try (TrainableModel model = ModelFactory.build(config, device); BatchSource source = generated(config)) {
                    source.shard(new Sharding(c.rank(), c.size(), freq));
                    RandomStream rng = new RandomStream(1);
                    for (int n = 1; n <= warmup; n++) model.trainStep(source.nextShare(), n, 1e-4, rng, dp).loss();
                    double allReduceBefore = dp.gradientSeconds();
                    long t0 = System.nanoTime();
                    StepStats last = null;
                    for (int n = warmup + 1; n <= warmup + steps; n++) last = model.trainStep(source.nextShare(), n, 1e-4, rng, dp);
                    last.loss(); // waits for the device
                    double perStep = (System.nanoTime() - t0) * 1e-9 / steps;
                    double allReduce = (dp.gradientSeconds() - allReduceBefore) / steps;
                    long params = model.state().entrySet().stream().filter(e -> e.getKey().startsWith("student."))
                            .mapToLong(e -> e.getValue().numel()).sum();
                    if (c.isRoot()) {
                        String line = String.join("\t", config.name(), o.get("--backend"), device.name(), Integer.toString(c.size()),
                                Integer.toString(freq), Integer.toString(config.batchSize()), Long.toString(params),
                                String.format(Locale.ROOT, "%.4f", perStep), String.format(Locale.ROOT, "%.4f", allReduce), load()) + "\n";
                        Files.createDirectories(tsv.toAbsolutePath().getParent());
                        Files.writeString(tsv, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        System.out.print("dist-step: " + line);
                    }
                }
            });
        }
    }

    private static BatchSource generated(Data2VecConfig cfg) {
        int b = cfg.batchSize();
        ModalityConfig m = cfg.modality();
        if (m instanceof ModalityConfig.Image img) return GeneratedSource.images(b, img.size(), img.channels(), 3);
        if (m instanceof ModalityConfig.Audio a) return GeneratedSource.audio(b, a.samples(), 3);
        ModalityConfig.Text t = (ModalityConfig.Text) m;
        return GeneratedSource.text(b, t.length(), t.vocab(), 3);
    }

    /** The markdown table: every run next to the 1-rank, 1-micro-batch run of the same preset, backend and global batch. */
    static void report(Path tsv, Path out) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String l : Files.readAllLines(tsv)) if (!l.isBlank()) rows.add(l.split("\t"));
        StringBuilder s = new StringBuilder("# Data-parallel step time\n\n");
        s.append("Measured ").append(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")))
                .append(" by `make bench-dist` (bench/src/main/java/org/d2v/bench/DistStepBench.java) on one machine with ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPUs: the same global batch of generated data trained by ")
                .append("1 rank, by 1 rank accumulating 2 micro-batches (`--update-freq 2`), and by 2 ranks (`mpirun --bind-to none -np 2`, ")
                .append("gradients all-reduced over MPI through host memory). Time per update after warm-up; all-reduce = host time in the ")
                .append("gradient all-reduce per update (download, MPI sum, upload). The ranks share the machine's cores: with 2 CPUs, 2 ranks ")
                .append("compete for them, and a backend that already uses every core (OpenCL on PoCL) cannot get faster. ")
                .append("Load = the 1-minute load average when the run ended (other jobs share this machine).\n\n");
        s.append("| preset | backend | parameters | global batch | ranks × micro-batches × per device | s / update | vs 1 rank | all-reduce s / update | load |\n");
        s.append("|---|---|---:|---:|---|---:|---:|---:|---:|\n");
        for (String[] r : rows) {
            double base = Double.NaN;
            for (String[] q : rows) {
                if (q[0].equals(r[0]) && q[1].equals(r[1]) && q[5].equals(r[5]) && q[3].equals("1") && q[4].equals("1")) base = Double.parseDouble(q[7]);
            }
            int ranks = Integer.parseInt(r[3]), freq = Integer.parseInt(r[4]), global = Integer.parseInt(r[5]);
            double t = Double.parseDouble(r[7]);
            s.append(String.format(Locale.ROOT, "| %s | %s | %,d | %d | %d × %d × %d | %.3f | %.2f× | %.4f | %s |%n", r[0], r[1],
                    Long.parseLong(r[6]), global, ranks, freq, global / (ranks * freq), t, base / t, Double.parseDouble(r[8]), r[9]));
        }
        s.append("\n\"vs 1 rank\" is the 1-rank time divided by this row's: above 1 is faster. On a GPU cluster each rank has its own GPU; ")
                .append("docs/distributed.md estimates the scaling there.\n");
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(tmp, s.toString());
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.print(s);
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
