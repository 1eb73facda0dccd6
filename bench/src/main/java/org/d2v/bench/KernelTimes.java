package org.d2v.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Backends;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.Device;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.cuda.CublasGemm;
import org.d2v.backend.cuda.CudaDevice;
import org.d2v.backend.cuda.CudnnConv;
import org.d2v.backend.cuda.CudnnProbe;
import org.d2v.backend.cuda.DevicePeaks;
import org.d2v.backend.kernel.FastVariants;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Times each kernel at the ViT-B shapes of data2vec 2.0 (docs/algorithm.md §2: D 768, 12 heads; student 256 rows
 * of 40 tokens = B 16 × M 16 clones; teacher 16 × 197 tokens; image decoder conv 768 channels on
 * 14×14, 3×3, 16 groups; the masked loss over 256 × 196 × 768), beside a copy bandwidth and a
 * square matmul rate measured in the same run. bench/device/torch_blocks.py times the same list
 * in PyTorch under the same names, and bench/device/table.py puts both side by side.
 *
 * <p>Usage: {@code KernelTimes [--backend cuda] [--scale full|small] [--iters N] [--fast both|on|off] [--json out.jsonl]}.
 * On CUDA the GPU time comes from events; elsewhere from the wall clock around N launches and one
 * synchronize. "small" shrinks every shape so the code path runs on a CPU backend in seconds.
 *
 * <p>{@code --fast both} (the default) times every case twice in the same run, on the portable
 * kernels only and with the device's fast variants ({@link FastVariants}: CUDA-only kernels,
 * cuBLASLt), after self-checking every variant first and printing the outcomes; each JSON line
 * says which ("variant": "portable" or "fast"). On CUDA the peaks include the driver's
 * device-to-device copy and cuBLASLt's bf16 GEMM rate ({@link DevicePeaks}).
 */
public final class KernelTimes {

    /** The model's sizes; {@link #small()} keeps the structure and shrinks the numbers. */
    record Sizes(int dim, int heads, int studentRows, int studentTokens, int teacherBatch, int teacherTokens,
                 int grid, int groups, int clones, int copyElements, int matmulSize) {
        static Sizes full() { return new Sizes(768, 12, 256, 40, 16, 197, 14, 16, 16, 64 << 20, 4096); }

        static Sizes small() { return new Sizes(64, 4, 8, 40, 2, 197, 14, 16, 4, 1 << 20, 256); }

        int headDim() { return dim / heads; }
    }

    /** One timed case: what it moves and computes, and the work of one iteration. */
    record Case(String name, String shape, double bytes, double flops, Runnable body) {}

    /** The outcome of one case. */
    record Timing(String name, String shape, String variant, double ms, double gbs, double tflops) {
        String json() {
            return String.format(Locale.ROOT, "{\"name\":\"%s\",\"shape\":\"%s\",\"variant\":\"%s\",\"ms\":%.6f,\"gbs\":%.3f,\"tflops\":%.4f}",
                    name, shape, variant, ms, gbs, tflops);
        }
    }

    private final Device dev;
    private final Ops ops;
    private final Sizes s;
    private final int iters;
    private final Random rnd = new Random(1);
    private long philoxOffset;
    private CublasGemm cublas;
    private DevicePeaks peaks;
    /** Library peers (cuDNN) opened by the cases, closed after the run. */
    private final List<AutoCloseable> peers = new ArrayList<>();
    private String fastMode = "both";

    KernelTimes(Device dev, Sizes s, int iters) {
        this.dev = dev;
        this.ops = dev.ops();
        this.s = s;
        this.iters = iters;
    }

    public static void main(String[] args) throws IOException {
        String backend = "auto", scale = "full";
        int iters = 20;
        String fast = "both";
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--scale" -> scale = args[++i];
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--fast" -> fast = args[++i];
                default -> throw new IllegalArgumentException("KernelTimes: unknown argument '" + args[i]
                        + "' (--backend NAME, --scale full|small, --iters N, --fast both|on|off, --json FILE)");
            }
        }
        Sizes sizes = switch (scale) {
            case "full" -> Sizes.full();
            case "small" -> Sizes.small();
            default -> throw new IllegalArgumentException("KernelTimes: --scale must be full or small, got " + scale);
        };
        List<Timing> timings;
        try (Device dev = Backends.open(backend)) {
            System.out.printf("KernelTimes on %s, %s shapes, %d timed iterations per case%n", dev.name(), scale, iters);
            if (!List.of("both", "on", "off").contains(fast)) throw new IllegalArgumentException("KernelTimes: --fast both|on|off, got " + fast);
            KernelTimes kt = new KernelTimes(dev, sizes, iters);
            kt.fastMode = fast;
            timings = kt.runAll();
        }
        if (json != null) {
            if (json.getParent() != null) Files.createDirectories(json.getParent());
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(json))) {
                for (Timing t : timings) w.println(t.json());
            }
        }
    }

    List<Timing> runAll() {
        // cuBLAS, where it loads, times the same square matmul: does it pay against the portable GEMM?
        try (CublasGemm cublas = dev instanceof CudaDevice c ? CublasGemm.open(c) : null;
             DevicePeaks peaks = dev instanceof CudaDevice c ? new DevicePeaks(c) : null) {
            this.cublas = cublas;
            this.peaks = peaks;
            if (dev.ops() instanceof KernelOps k && !fastMode.equals("off")) {
                long t = System.nanoTime();
                k.fast().selfCheckAll();
                System.out.printf(Locale.ROOT, "self-checks of the fast variants: %.0f ms%n", (System.nanoTime() - t) / 1e6);
                k.fast().describe().forEach(System.out::println);
            }
            if (dev instanceof CudaDevice) {
                System.out.println(cublas != null ? "cuBLAS " + cublas.version() + " for peak/matmul_cublas"
                        : "no peak/matmul_cublas: " + CublasGemm.status());
            }
            try {
                return runGroups();
            } finally {
                for (AutoCloseable p : peers) {
                    try {
                        p.close();
                    } catch (Exception e) {
                        System.out.println("closing " + p + ": " + e);
                    }
                }
            }
        }
    }

    private List<Timing> runGroups() {
        List<Timing> out = new ArrayList<>();
        System.out.printf("%-28s %-34s %-8s %10s %9s %9s%n", "case", "shape", "variant", "ms", "GB/s", "TFLOP/s");
        List<String> variants = switch (fastMode) {
            case "on" -> List.of("fast");
            case "off" -> List.of("portable");
            default -> List.of("portable", "fast");
        };
        for (Group g : new Group[] {this::peaks, this::student, this::teacher, this::decoder, this::loss, this::suite}) {
            try (Scope scope = Scope.open()) {
                for (Case c : g.cases()) {
                    for (String variant : variants) {
                        if (dev.ops() instanceof KernelOps k) k.fast().setEnabled(variant.equals("fast"));
                        Timing t = time(c, variant);
                        out.add(t);
                        System.out.printf(Locale.ROOT, "%-28s %-34s %-8s %10.4f %9.1f %9.3f%n", t.name(), t.shape(), t.variant(), t.ms(),
                                t.gbs(), t.tflops());
                    }
                }
            }
        }
        if (dev.ops() instanceof KernelOps k) k.fast().setEnabled(true);
        return out;
    }

    /**
     * The op families of the JMH suite ({@link OpCases}, what {@code make bench} measures on the CPU)
     * at the base preset (tiny at small scale), so the GPU table and the CPU table share one
     * definition of each benchmark. Named "suite/op".
     */
    private List<Case> suite() {
        Preset p = s.dim() == 768 ? Preset.BASE : Preset.TINY;
        List<Case> cases = new ArrayList<>();
        for (String name : OpCases.names()) {
            OpCase.Prepared prep = OpCases.get(name).prepare(dev, p);
            cases.add(new Case("suite/" + name, p.name(), prep.bytes(), prep.flops(), prep.launch()));
        }
        return cases;
    }

    /** Builds the tensors of a family of cases (inside the caller's scope) and returns the cases. */
    private interface Group { List<Case> cases(); }

    private Timing time(Case c, String variant) {
        int warmup = Math.max(2, iters / 5);
        for (int i = 0; i < warmup; i++) c.body().run();
        dev.synchronize();
        double ms;
        if (dev instanceof CudaDevice cuda) {
            ms = cuda.runtime().timeMs(() -> {
                for (int i = 0; i < iters; i++) c.body().run();
            }) / iters;
        } else {
            long t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) c.body().run();
            dev.synchronize();
            ms = (System.nanoTime() - t0) / 1e6 / iters;
        }
        double seconds = ms / 1e3;
        return new Timing(c.name(), c.shape(), variant, ms, c.bytes() / seconds / 1e9, c.flops() / seconds / 1e12);
    }

    // ---- tensors -----------------------------------------------------------------------------------

    /** N(0, 0.25) values drawn on the device (Philox): hundreds of MB of inputs without host traffic. */
    private Tensor randn(int... dims) {
        Tensor t = empty(dims);
        ops.normal(t, 0, 0.5, 1, philoxOffset);
        philoxOffset += t.numel();
        return t;
    }

    private Tensor empty(int... dims) { return Tensor.empty(dev, DType.F32, Shape.of(dims)); }

    private static final int F = 4; // bytes per float

    // ---- cases -------------------------------------------------------------------------------------

    /** The machine's own limits in this run: device-to-device copy bandwidth and a square F32 GEMM. */
    private List<Case> peaks() {
        int n = s.copyElements(), m = s.matmulSize();
        Tensor src = randn(n), dst = empty(n);
        Tensor a = randn(m, m), b = randn(m, m), c = empty(m, m);
        MatmulDesc md = MatmulDesc.of(m, m, m);
        List<Case> cases = new ArrayList<>(List.of(
                new Case("peak/copy", n + " floats", 2.0 * n * F, 0, () -> ops.copy(src, dst)),
                new Case("peak/matmul", m + "³", 3.0 * m * m * F, md.flops(), () -> ops.matmul(md, a, b, null, c, null, false))));
        if (cublas != null) {
            cases.add(new Case("peak/matmul_cublas", m + "³", 3.0 * m * m * F, md.flops(), () -> cublas.matmul(m, m, m, a, b, c)));
        }
        if (peaks != null) {
            cases.add(new Case("peak/memcpy_dtod", n + " floats", 2.0 * n * F, 0, () -> peaks.memcpy(src, dst)));
            if (DevicePeaks.cublasLtUnavailable() == null) {
                // bf16 operands in F32 buffers: each float holds two bf16 of about 1.0 (the pattern 0x3f80 3f80)
                Tensor ha = empty(m * m / 2), hb = empty(m * m / 2), hc = empty(m * m / 2);
                float ones = Float.intBitsToFloat(0x3f803f80);
                ops.fill(ha, ones);
                ops.fill(hb, ones);
                cases.add(new Case("peak/matmul_cublaslt_bf16", m + "³ bf16", 3.0 * m * m * 2, md.flops(),
                        () -> peaks.gemmBf16(m, m, m, ha, hb, hc)));
            } else {
                System.out.println("no peak/matmul_cublaslt_bf16: cuBLASLt " + DevicePeaks.cublasLtUnavailable());
            }
        }
        return cases;
    }

    /** One Transformer block's forward kernels (pre-residual LayerNorm, fused QKV, attention, MLP). */
    private List<Case> block(String who, int batch, int tokens) {
        int rows = batch * tokens, d = s.dim(), hidden = 4 * d;
        Tensor x = randn(rows, d), ln = empty(rows, d), mean = empty(rows), rstd = empty(rows);
        Tensor gamma = randn(d), beta = randn(d);
        Tensor wQkv = randn(3 * d, d), bQkv = randn(3 * d), qkv = empty(rows, 3 * d);
        Tensor att = empty(rows, d), lse = empty(batch * s.heads() * tokens);
        Tensor dAtt = randn(rows, d), dQkv = empty(rows, 3 * d), delta = empty(batch * s.heads() * tokens);
        Tensor wProj = randn(d, d), bProj = randn(d), proj = empty(rows, d), res = empty(rows, d);
        Tensor w1 = randn(hidden, d), b1 = randn(hidden), h = empty(rows, hidden), pre = empty(rows, hidden);
        Tensor w2 = randn(d, hidden), b2 = randn(d), y = empty(rows, d);
        NormDesc nd = new NormDesc(rows, d, 1e-6);
        MatmulDesc mQkv = new MatmulDesc(1, rows, 3 * d, d, false, true, false, MatmulDesc.Activation.NONE);
        MatmulDesc mProj = new MatmulDesc(1, rows, d, d, false, true, false, MatmulDesc.Activation.NONE);
        MatmulDesc mFc1 = new MatmulDesc(1, rows, hidden, d, false, true, false, MatmulDesc.Activation.GELU);
        MatmulDesc mFc2 = new MatmulDesc(1, rows, d, hidden, false, true, false, MatmulDesc.Activation.NONE);
        AttentionDesc ad = AttentionDesc.of(batch, tokens, s.heads(), s.headDim());
        String shape = batch + "×" + tokens + "×" + d;
        Runnable layerNorm = () -> ops.layerNorm(nd, x, gamma, beta, ln, mean, rstd);
        Runnable qkvProj = () -> ops.matmul(mQkv, ln, wQkv, bQkv, qkv, null, false);
        Runnable attention = () -> ops.attention(ad, qkv, null, null, null, null, att, lse);
        Runnable attentionBackward = () -> ops.attentionBackward(ad, qkv, null, null, null, null, att, dAtt, lse, delta,
                dQkv, null, false);
        Runnable outProj = () -> ops.matmul(mProj, att, wProj, bProj, proj, null, false);
        Runnable residual = () -> ops.add(x, proj, res);
        Runnable fc1 = () -> ops.matmul(mFc1, res, w1, b1, h, pre, false);
        Runnable fc2 = () -> ops.matmul(mFc2, h, w2, b2, y, null, false);
        double act = (double) rows * d * F;
        return List.of(
                new Case(who + "/layernorm", shape, 2 * act, 0, layerNorm),
                new Case(who + "/qkv_linear", rows + "×" + d + "→" + 3 * d, (rows * d + 3.0 * d * d + 3.0 * rows * d) * F,
                        mQkv.flops(), qkvProj),
                new Case(who + "/attention_fwd", ad.batch() + "×" + tokens + "×" + s.heads() + "h×" + s.headDim(),
                        4 * act, ad.flops(), attention),
                new Case(who + "/attention_bwd", ad.batch() + "×" + tokens + "×" + s.heads() + "h×" + s.headDim(),
                        8 * act, 2.5 * ad.flops(), attentionBackward),
                new Case(who + "/out_linear", rows + "×" + d + "→" + d, (2.0 * rows * d + d * d) * F, mProj.flops(), outProj),
                new Case(who + "/mlp_fc1_gelu", rows + "×" + d + "→" + hidden, (rows * d + 2.0 * rows * hidden + hidden * d) * F,
                        mFc1.flops(), fc1),
                new Case(who + "/mlp_fc2", rows + "×" + hidden + "→" + d, (rows * hidden + rows * d + hidden * d) * F,
                        mFc2.flops(), fc2),
                new Case(who + "/block_fwd", shape, 0, mQkv.flops() + ad.flops() + mProj.flops() + mFc1.flops() + mFc2.flops(),
                        () -> {
                            layerNorm.run(); qkvProj.run(); attention.run(); outProj.run(); residual.run(); fc1.run(); fc2.run();
                        }));
    }

    private List<Case> student() { return block("student", s.studentRows(), s.studentTokens()); }

    private List<Case> teacher() { return block("teacher", s.teacherBatch(), s.teacherTokens()); }

    /** One image decoder layer: grouped 3×3 conv on the 14×14 grid, LayerNorm without affine, GELU. */
    private List<Case> decoder() {
        int batch = s.studentRows(), g = s.grid(), d = s.dim(), rows = batch * g * g;
        ConvDesc cd = ConvDesc.conv2d(batch, d, d, g, g, 3, 1, 1, s.groups());
        Tensor x = randn(batch, g, g, d), w = randn(d, 3, 3, d / s.groups()), bias = randn(d), y = empty(batch, g, g, d);
        Tensor dy = randn(batch, g, g, d), dx = empty(batch, g, g, d), dw = empty(d, 3, 3, d / s.groups()), db = empty(d);
        Tensor ln = empty(rows, d), mean = empty(rows), rstd = empty(rows), act = empty(rows, d);
        NormDesc nd = new NormDesc(rows, d, 1e-5);
        Tensor y2 = y.reshape(rows, d);
        double io = (double) rows * d * F, weights = (double) w.numel() * F;
        String shape = batch + "×" + g + "×" + g + "×" + d + " g" + s.groups();
        List<Case> peer = new ArrayList<>();
        if (dev instanceof CudaDevice c) {
            // cuDNN as the peer of the decoder conv, where JCudnn loads (cuDNN 8): never required
            if (CudnnProbe.unavailableReason() == null) {
                CudnnConv cudnn = new CudnnConv(c, cd);
                peers.add(cudnn);
                System.out.println("decoder/conv_fwd_cudnn: cuDNN " + CudnnProbe.version() + ", " + cudnn.algorithm());
                peer.add(new Case("decoder/conv_fwd_cudnn", shape + " (no bias)", 2 * io + weights, cd.flops(), () -> cudnn.forward(x, w, y)));
            } else {
                System.out.println("no decoder/conv_fwd_cudnn: " + CudnnProbe.describe());
            }
        }
        List<Case> cases = new ArrayList<>(peer);
        cases.addAll(List.of(
                new Case("decoder/conv_fwd", shape, 2 * io + weights, cd.flops(), () -> ops.conv(cd, x, w, bias, y)),
                new Case("decoder/conv_bwd_input", shape, 2 * io + weights, cd.flops(), () -> ops.convBackwardInput(cd, dy, w, dx, false)),
                new Case("decoder/conv_bwd_weight", shape, 2 * io + weights, cd.flops(), () -> {
                    ops.fill(dw, 0);
                    ops.fill(db, 0);
                    ops.convBackwardWeight(cd, x, dy, dw, db);
                }),
                new Case("decoder/layernorm_gelu", rows + "×" + d, 4 * io, 0, () -> {
                    ops.layerNorm(nd, y2, null, null, ln, mean, rstd);
                    ops.gelu(ln, act);
                })));
        return cases;
    }

    /** The masked regression loss, forward and backward fused, with the targets shared by the clones. */
    private List<Case> loss() {
        int rows = s.studentRows(), tokens = s.grid() * s.grid(), d = s.dim();
        Tensor pred = randn(rows, tokens, d), target = randn(rows / s.clones(), tokens, d), dpred = empty(rows, tokens, d);
        int[] m = new int[rows * tokens];
        int masked = 0;
        for (int i = 0; i < m.length; i++) if (rnd.nextDouble() < 0.8) { m[i] = 1; masked++; }
        Tensor mask = Tensor.ofInts(dev, Shape.of(rows, tokens), m), out = empty(1);
        LossDesc ld = new LossDesc(rows, tokens, d, s.clones(), 1 / Math.sqrt(d), Math.max(1, masked));
        double bytes = (2.0 * rows * tokens * d + (double) rows / s.clones() * tokens * d + rows * tokens) * F;
        return List.of(new Case("loss/masked_regression", rows + "×" + tokens + "×" + d + " M" + s.clones(), bytes,
                3.0 * rows * tokens * d, () -> ops.maskedRegression(ld, pred, target, mask, out, dpred, 1.0)));
    }
}
