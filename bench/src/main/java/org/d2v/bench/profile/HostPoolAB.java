package org.d2v.bench.profile;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.bench.MachineLoad;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.demo.DemoPresets;
import org.d2v.jni.OpenBlas;
import org.d2v.train.BatchSource;
import org.d2v.train.TrainingData;

/**
 * The host kernels' pool (d2v.cpu.threads) A/B inside one process: one OpenCL model per preset
 * steps alternately with the pool at 1 thread and at 2 (ABBA order, each step timed until the
 * device has run it), so that load drifts on a shared machine hit both sides alike; prints the
 * median step of each side and the median of the paired ratios (2 threads / 1) with quartiles.
 *
 * <p>{@code --scale} multiplies every split threshold of the 2-thread side (1: as built; larger:
 * only the bigger kernels split).
 *
 * <p>{@code --spins A,B} compares two spins of the idle workers instead ({@code -Dd2v.cpu.spinMicros}),
 * both sides at the configured thread count: side 1 spins A microseconds, side 2 B.
 *
 * <pre>usage: HostPoolAB [--presets image-demo,image-tiny,audio-tiny,text-tiny] [--pairs 60] [--scale 1] [--spins 20,200]</pre>
 */
public final class HostPoolAB {
    private HostPoolAB() {}

    public static void main(String[] args) throws Exception {
        String presets = "image-demo,image-tiny,audio-tiny,text-tiny";
        int pairs = 60;
        double scale = 1.0;
        int[] spins = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--presets" -> presets = args[++i];
                case "--pairs" -> pairs = Integer.parseInt(args[++i]);
                case "--scale" -> scale = Double.parseDouble(args[++i]);
                case "--spins" -> spins = java.util.Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("HostPoolAB: unknown option " + args[i]);
            }
        }
        if (OpenBlas.unavailableReason() != null) throw new IllegalStateException("HostPoolAB: " + OpenBlas.describe());
        System.out.println("load before: " + MachineLoad.uptime());
        if (spins != null && spins.length != 2) throw new IllegalArgumentException("HostPoolAB: --spins takes two values, A,B");
        for (String preset : presets.split(",")) run(preset, pairs, scale, spins);
        System.out.println("load after: " + MachineLoad.uptime());
        OpenBlas.restoreHostThreads();
    }

    private static void run(String preset, int pairs, double scale, int[] spins) throws Exception {
        Data2VecConfig cfg = DemoPresets.named(preset);
        try (Device device = Backends.open("opencl"); Data2Vec model = new Data2Vec(device, cfg)) {
            List<Batch> batches = new ArrayList<>();
            try (BatchSource source = TrainingData.open(TrainingData.GENERATED, cfg, 7)) {
                for (int i = 0; i < 4; i++) batches.add(source.next());
            }
            RandomStream rng = new RandomStream(11);
            long step = 0;
            List<Double> one = new ArrayList<>(), two = new ArrayList<>(), ratio = new ArrayList<>();
            for (int i = 0; i < pairs + 2; i++) {
                double[] t = new double[2];
                for (int j = 0; j < 2; j++) {
                    int threads = (i + j) % 2 == 0 ? 1 : 2;
                    if (spins == null) OpenBlas.configureHostThreads(threads, threads == 1 ? 1.0 : scale);
                    else OpenBlas.configureHostSpin(spins[threads - 1]);
                    Batch b = batches.get((int) (step % batches.size()));
                    step++;
                    long t0 = System.nanoTime();
                    model.trainStep(b, step, 1e-4, rng);
                    device.synchronize();
                    t[threads - 1] = (System.nanoTime() - t0) / 1e9;
                }
                if (i < 2) continue; // warm-up pairs
                one.add(t[0]);
                two.add(t[1]);
                ratio.add(t[1] / t[0]);
            }
            String sides = spins == null ? String.format(Locale.ROOT, "(scale %.1f), median step 1 thread %%.4f s, 2 threads %%.4f s, median paired ratio 2/1", scale)
                    : String.format(Locale.ROOT, "median step at spin %d us %%.4f s, at spin %d us %%.4f s, median paired ratio %d/%d", spins[0], spins[1], spins[1], spins[0]);
            System.out.printf(Locale.ROOT, "%s: %d pairs " + sides + " %.3f (quartiles %.3f..%.3f)%n",
                    preset, pairs, quantile(one, 0.5), quantile(two, 0.5), quantile(ratio, 0.5), quantile(ratio, 0.25), quantile(ratio, 0.75));
        }
    }

    private static double quantile(List<Double> v, double p) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.get((int) Math.round(p * (s.size() - 1)));
    }
}
