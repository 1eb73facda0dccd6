package org.d2v.bench.peer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.LayerNorm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.bench.OpCase;
import org.d2v.bench.OpCases;
import org.d2v.bench.Preset;
import org.d2v.tensor.Scope;

/**
 * The peer side by side: the same ops at the same shapes in d2v (every available backend) and in
 * libtorch's CPU engine through DJL, timed in one process, float32 only (DJL aborts the JVM on
 * bfloat16). Prints and writes bench/results/peer-latest.md with the ratio d2v / libtorch per op
 * (below 1: d2v is faster).
 *
 * <pre>usage: SideBySide [--presets tiny[,base]] [--out bench/results]</pre>
 */
public final class SideBySide {
    private SideBySide() {}

    /** d2v op case → the libtorch computation of the same op at the same shapes. */
    private static final Map<String, PeerOp> PEER = new LinkedHashMap<>();

    interface PeerOp {
        /** Allocates inputs in {@code nd} and returns one call of the op (which frees its outputs). */
        Runnable prepare(NDManager nd, Preset p);
    }

    static {
        PEER.put("linear-qkv", (nd, p) -> {
            NDArray x = rand(nd, p.studentRows() * p.studentTokens(), p.dim());
            NDArray wt = rand(nd, p.dim(), 3 * p.dim()), b = rand(nd, 3 * p.dim());
            return () -> close(x.matMul(wt).addi(b));
        });
        PEER.put("attention-fwd-student", (nd, p) -> attention(nd, p, p.studentRows(), p.studentTokens()));
        PEER.put("attention-fwd-teacher", (nd, p) -> attention(nd, p, p.teacherRows(), p.teacherTokens()));
        PEER.put("layernorm-fwd", (nd, p) -> {
            NDArray x = rand(nd, p.studentRows() * p.studentTokens(), p.dim());
            NDArray g = rand(nd, p.dim()), b = rand(nd, p.dim());
            return () -> close(LayerNorm.layerNorm(x, new Shape(p.dim()), g, b, 1e-6f));
        });
        PEER.put("gelu-fwd", (nd, p) -> {
            NDArray x = rand(nd, (long) p.studentRows() * p.studentTokens() * 4 * p.dim());
            return () -> close(Activation.gelu(x));
        });
        PEER.put("conv2d-decoder-fwd", (nd, p) -> {
            int c = p.decoderChannels(), g = p.decoderGroups();
            NDArray x = rand(nd, p.studentRows(), c, p.grid(), p.grid());
            NDArray w = rand(nd, c, c / g, 3, 3), b = rand(nd, c);
            return () -> close(Conv2d.conv2d(x, w, b, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), g));
        });
        PEER.put("conv1d-audio-decoder-fwd", (nd, p) -> {
            int out = p.audioDecoderChannels();
            NDArray x = rand(nd, p.audioRows(), p.dim(), p.audioFrames());
            NDArray w = rand(nd, out, p.dim() / 16, 7), b = rand(nd, out);
            return () -> close(Conv1d.conv1d(x, w, b, new Shape(1), new Shape(3), new Shape(1), 16));
        });
        PEER.put("adamw", (nd, p) -> {
            long n = p.parameters();
            NDArray w = rand(nd, n), g = rand(nd, n), m = rand(nd, n), v = rand(nd, n);
            float lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.05f;
            int step = 10;
            float stepSize = (float) (lr * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step)));
            // libtorch eager, in place, the same fairseq form as d2v's single AdamW launch
            return () -> {
                w.muli(1 - lr * wd);
                m.muli(b1).addi(g.mul(1 - b1));
                NDArray g2 = g.square();
                v.muli(b2).addi(g2.muli(1 - b2));
                NDArray denom = v.sqrt().addi(eps);
                NDArray upd = m.div(denom).muli(stepSize);
                w.subi(upd);
                close(g2, denom, upd);
            };
        });
    }

    public static void main(String[] args) throws Exception {
        List<String> presets = List.of("tiny");
        Path out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<String> backends = Backends.all().stream().filter(b -> b.probe().available()).map(Backend::name).toList();
        StringBuilder md = new StringBuilder("# d2v vs libtorch (DJL, CPU, float32), side by side in one process\n\n");
        md.append("Median wall time of one call; ratio = d2v / libtorch (below 1: d2v is faster). ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPU threads.\n\n");
        md.append("| preset | op | libtorch ms |");
        for (String b : backends) md.append(" d2v ").append(b).append(" ms | ratio |");
        md.append("\n|---|---|---:|");
        md.append("---:|---:|".repeat(backends.size())).append("\n");
        try (NDManager nd = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            for (String presetName : presets) {
                Preset p = Preset.named(presetName);
                for (Map.Entry<String, PeerOp> e : PEER.entrySet()) {
                    double torch;
                    try (NDManager sub = nd.newSubManager()) {
                        torch = medianMs(e.getValue().prepare(sub, p), () -> {});
                    }
                    md.append(String.format(Locale.ROOT, "| %s | %s | %.3f |", presetName, e.getKey(), torch));
                    for (String b : backends) {
                        if (b.equals("reference") && presetName.equals("base")) {
                            md.append(" – | – |");
                            continue;
                        }
                        double ours;
                        try (Device dev = Backends.open(b); Scope s = Scope.open()) {
                            OpCase.Prepared prep = OpCases.get(e.getKey()).prepare(dev, p);
                            ours = medianMs(prep.launch(), dev::synchronize);
                        }
                        md.append(String.format(Locale.ROOT, " %.3f | %.2f |", ours, ours / torch));
                    }
                    md.append("\n");
                    System.out.print(".");
                }
            }
        }
        System.out.println();
        System.out.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve("peer-latest.md"), md.toString());
    }

    /** Median of repeated calls after a warm-up: at least 5 calls and about a second in all. */
    static double medianMs(Runnable op, Runnable sync) {
        for (int i = 0; i < 2; i++) {
            op.run();
            sync.run();
        }
        List<Double> times = new ArrayList<>();
        long start = System.nanoTime();
        while (times.size() < 5 || (System.nanoTime() - start < 1_000_000_000L && times.size() < 50)) {
            long t0 = System.nanoTime();
            op.run();
            sync.run();
            times.add((System.nanoTime() - t0) / 1e6);
        }
        double[] a = times.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }

    private static Runnable attention(NDManager nd, Preset p, int batch, int tokens) {
        Supplier<NDArray> mk = () -> rand(nd, batch, p.heads(), tokens, p.headDim());
        NDArray q = mk.get(), k = mk.get(), v = mk.get();
        float scale = (float) (1 / Math.sqrt(p.headDim()));
        return () -> {
            NDArray kt = k.transpose(0, 1, 3, 2);
            NDArray logits = q.matMul(kt).muli(scale);
            NDArray probs = logits.softmax(-1);
            NDArray o = probs.matMul(v);
            close(kt, logits, probs, o);
        };
    }

    private static NDArray rand(NDManager nd, long... dims) {
        return nd.randomUniform(0f, 1f, new Shape(dims));
    }

    private static void close(NDList list) { list.close(); }

    private static void close(NDArray... arrays) {
        for (NDArray a : arrays) a.close();
    }
}
