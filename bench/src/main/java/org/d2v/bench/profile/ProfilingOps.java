package org.d2v.bench.profile;

import java.util.LinkedHashMap;
import java.util.Map;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.Device;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.Ops;
import org.d2v.bench.ForwardingOps;

/**
 * Times every op (and host transfer) of a model built on a {@link org.d2v.bench.ForwardingDevice}:
 * the device is synchronised before and after each op, so an op's time is its whole run on the
 * device, launch included; time spent between ops (autograd bookkeeping, masks, argument setting
 * outside a launch) is what the step's wall time leaves over. Ops are grouped into families
 * ({@link #family}) and finer shape classes ({@link #shapeClass}); FLOPs are counted where the op
 * has a descriptor that gives them (GEMM, attention, convolution).
 */
public final class ProfilingOps extends ForwardingOps {
    /** Accumulated calls, nanoseconds and FLOPs of one family or class. */
    public static final class Tally {
        public long calls, nanos;
        public double flops;

        void add(long ns, double f) {
            calls++;
            nanos += ns;
            flops += f;
        }
    }

    private final Device device;
    private final Map<String, Tally> families = new LinkedHashMap<>();
    private final Map<String, Tally> classes = new LinkedHashMap<>();
    private final LinearNames names;
    private boolean on;

    /** Names a Linear layer by its (in, out) features ("qkv", "fc1", …) or returns null. */
    public interface LinearNames {
        String name(int in, int out);
    }

    /** @param device the inner device (synchronised around each op) */
    public ProfilingOps(Ops inner, Device device, LinearNames names) {
        super(inner);
        this.device = device;
        this.names = names;
    }

    /** Profiling on or off (off: ops run as they are, unsynchronised, uncounted). */
    public void enable(boolean on) { this.on = on; }

    public void reset() {
        families.clear();
        classes.clear();
    }

    public Map<String, Tally> families() { return families; }

    public Map<String, Tally> classes() { return classes; }

    @Override
    protected void run(String op, Object desc, Runnable body) {
        if (!on) {
            body.run();
            return;
        }
        device.synchronize();
        long t0 = System.nanoTime();
        body.run();
        device.synchronize();
        long ns = System.nanoTime() - t0;
        double f = flops(op, desc);
        families.computeIfAbsent(family(op, desc), k -> new Tally()).add(ns, f);
        classes.computeIfAbsent(shapeClass(op, desc), k -> new Tally()).add(ns, f);
    }

    /** Whether a GEMM is a Linear layer's forward, its input gradient (dgrad) or its weight gradient (wgrad). */
    static String phase(MatmulDesc d) { return d.transA() ? "wgrad" : d.transB() ? "fwd" : "dgrad"; }

    static String family(String op, Object desc) {
        return switch (op) {
            case "matmul" -> "matmul " + phase((MatmulDesc) desc);
            case "attention" -> "attention fwd";
            case "attentionBackward" -> "attention bwd";
            case "layerNorm" -> "layernorm fwd";
            case "layerNormBackward" -> "layernorm bwd";
            case "conv" -> "conv fwd";
            case "convBackwardInput" -> "conv dgrad";
            case "convBackwardWeight" -> "conv wgrad";
            case "gelu", "geluBackward" -> "gelu (unfused)";
            case "instanceNorm", "instanceNormBackward" -> "instance norm (targets)";
            case "add", "mul", "axpby", "addBroadcast", "broadcastMiddle", "fill", "copy" -> "elementwise";
            case "reduceMiddle", "sum" -> "reductions";
            case "sumSquares" -> "grad norm";
            case "gatherRows", "scatterRows", "repeatRows", "sumRepeats", "embedding", "embeddingBackward" -> "gather/scatter";
            case "maskedRegression", "crossEntropy" -> "loss";
            case "dropout", "dropoutBackward", "normal", "uniform" -> "random";
            case "adamw" -> "adamw";
            case "ema" -> "ema";
            case "upload", "download" -> "host transfers";
            default -> op;
        };
    }

    String shapeClass(String op, Object desc) {
        if (desc instanceof MatmulDesc d) {
            String phase = phase(d);
            // A Linear y[rows, out] = x[rows, in]·Wᵀ is (m=rows, n=out, k=in); dgrad (rows, in, out); wgrad (out, in, rows).
            int in = phase.equals("fwd") ? d.k() : d.n(), out = phase.equals("fwd") ? d.n() : phase.equals("dgrad") ? d.k() : d.m();
            String name = names == null ? null : names.name(in, out);
            return "matmul " + phase + " " + (name != null ? name + " " : "") + in + "→" + out
                    + (d.activation() == MatmulDesc.Activation.GELU ? " +GELU" : "") + (d.batch() > 1 ? " ×" + d.batch() : "");
        }
        if (desc instanceof AttentionDesc d) {
            return family(op, desc) + " T=" + d.tokens() + " H=" + d.heads() + " Dh=" + d.headDim() + (d.alibi() ? " ALiBi" : "");
        }
        if (desc instanceof ConvDesc d) {
            String k = d.inH() == 1 ? Integer.toString(d.kW()) : d.kH() + "×" + d.kW();
            return family(op, desc) + " k" + k + (d.strideW() > 1 ? " s" + d.strideW() : "") + (d.groups() > 1 ? " g" + d.groups() : "")
                    + " " + d.inC() + "→" + d.outC() + " (" + (d.inH() == 1 ? d.outW() : d.outH() + "×" + d.outW()) + ")";
        }
        return family(op, desc) + (family(op, desc).equals(op) ? "" : ": " + op);
    }

    /** Floating-point operations of one call: GEMMs 2mnk, attention 4BHT²Dh forward and 10BHT²Dh backward (recomputing the scores), convolutions 2·out·k·in/g. */
    static double flops(String op, Object desc) {
        if (desc instanceof MatmulDesc d) return d.flops();
        if (desc instanceof AttentionDesc d) return op.equals("attention") ? d.flops() : 2.5 * d.flops();
        if (desc instanceof ConvDesc d) return d.flops();
        return 0;
    }

    /** Labels for the Linear layers of a transformer of width dim, MLP width mlp and decoder width dec. */
    public static LinearNames transformer(int dim, int mlp, int dec, int projHidden) {
        Map<Long, String> m = new LinkedHashMap<>();
        m.putIfAbsent(key(dim, 3 * dim), "qkv");
        m.putIfAbsent(key(dim, dim), "attn.proj");
        m.putIfAbsent(key(dim, mlp), "fc1");
        m.putIfAbsent(key(mlp, dim), "fc2");
        if (projHidden > 0) {
            m.putIfAbsent(key(dec, projHidden), "decoder.proj.0");
            m.putIfAbsent(key(projHidden, dim), "decoder.proj.2");
        } else {
            m.putIfAbsent(key(dec, dim), "decoder.proj");
        }
        return (in, out) -> m.get(key(in, out));
    }

    private static long key(int in, int out) { return ((long) in << 32) | out; }
}
