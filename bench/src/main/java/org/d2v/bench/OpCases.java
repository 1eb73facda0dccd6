package org.d2v.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.Device;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/** Every benchmarked op family, at the shapes of a {@link Preset}. */
public final class OpCases {
    private OpCases() {}

    private static final Map<String, OpCase> CASES = new LinkedHashMap<>();

    /** The two roofline probes: what the device can stream and what it can multiply. */
    public static final List<String> ROOFLINE = List.of("copy", "gemm-peak");

    static {
        add("copy", (dev, p) -> {
            int n = p == Preset.BASE ? 64 << 20 : 8 << 20;
            Tensor a = rand(dev, n), b = rand(dev, n);
            return new OpCase.Prepared(() -> dev.ops().copy(a, b), 8.0 * n, 0);
        });
        add("gemm-peak", (dev, p) -> {
            int n = p == Preset.BASE ? 2048 : 512;
            Tensor a = rand(dev, n, n), b = rand(dev, n, n), c = rand(dev, n, n);
            MatmulDesc d = MatmulDesc.of(n, n, n);
            return new OpCase.Prepared(() -> dev.ops().matmul(d, a, b, null, c, null, false), 12.0 * n * n, d.flops());
        });
        add("linear-qkv", (dev, p) -> linear(dev, p.studentRows() * p.studentTokens(), p.dim(), 3 * p.dim(), false));
        add("linear-fc1-gelu", (dev, p) -> linear(dev, p.studentRows() * p.studentTokens(), p.dim(), 4 * p.dim(), true));
        add("linear-dweight", (dev, p) -> {
            int rows = p.studentRows() * p.studentTokens(), in = p.dim(), out = 4 * p.dim();
            Tensor dy = rand(dev, rows, out), x = rand(dev, rows, in), dw = rand(dev, out, in);
            MatmulDesc d = MatmulDesc.of(out, in, rows).withTransA(true);
            return new OpCase.Prepared(() -> dev.ops().matmul(d, dy, x, null, dw, null, true),
                    4.0 * ((double) rows * (in + out) + 2.0 * in * out), d.flops());
        });
        add("attention-fwd-student", (dev, p) -> attention(dev, p, p.studentRows(), p.studentTokens(), false));
        add("attention-bwd-student", (dev, p) -> attention(dev, p, p.studentRows(), p.studentTokens(), true));
        add("attention-fwd-teacher", (dev, p) -> attention(dev, p, p.teacherRows(), p.teacherTokens(), false));
        add("layernorm-fwd", (dev, p) -> {
            int rows = p.studentRows() * p.studentTokens(), dim = p.dim();
            Tensor x = rand(dev, rows, dim), y = rand(dev, rows, dim), g = rand(dev, dim), b = rand(dev, dim);
            Tensor mean = rand(dev, rows), rstd = rand(dev, rows);
            NormDesc d = new NormDesc(rows, dim, 1e-6);
            return new OpCase.Prepared(() -> dev.ops().layerNorm(d, x, g, b, y, mean, rstd), 8.0 * rows * dim, 8.0 * rows * dim);
        });
        add("layernorm-bwd", (dev, p) -> {
            int rows = p.studentRows() * p.studentTokens(), dim = p.dim();
            Tensor x = rand(dev, rows, dim), dy = rand(dev, rows, dim), dx = rand(dev, rows, dim), g = rand(dev, dim);
            Tensor dg = rand(dev, dim), db = rand(dev, dim), mean = rand(dev, rows), rstd = rand(dev, rows);
            NormDesc d = new NormDesc(rows, dim, 1e-6);
            return new OpCase.Prepared(() -> dev.ops().layerNormBackward(d, x, g, mean, rstd, dy, dx, dg, db, false),
                    12.0 * rows * dim, 12.0 * rows * dim);
        });
        add("gelu-fwd", (dev, p) -> {
            int n = p.studentRows() * p.studentTokens() * 4 * p.dim();
            Tensor x = rand(dev, n), y = rand(dev, n);
            return new OpCase.Prepared(() -> dev.ops().gelu(x, y), 8.0 * n, 20.0 * n);
        });
        add("instancenorm-targets", (dev, p) -> {
            int b = p.teacherRows(), t = p.teacherTokens(), c = p.dim();
            Tensor x = rand(dev, b, t, c), y = rand(dev, b, t, c), mean = rand(dev, b, c), rstd = rand(dev, b, c);
            return new OpCase.Prepared(() -> dev.ops().instanceNorm(b, t, c, 1e-5, x, y, mean, rstd),
                    8.0 * b * t * c, 6.0 * b * t * c);
        });
        add("conv2d-decoder-fwd", (dev, p) -> conv(dev, decoder2d(p), 0));
        add("conv2d-decoder-dinput", (dev, p) -> conv(dev, decoder2d(p), 1));
        add("conv2d-decoder-dweight", (dev, p) -> conv(dev, decoder2d(p), 2));
        add("conv1d-audio-decoder-fwd", (dev, p) -> conv(dev,
                ConvDesc.conv1d(p.audioRows(), p.dim(), p.audioDecoderChannels(), p.audioFrames(), 7, 1, 3, 16), 0));
        add("masked-loss", (dev, p) -> {
            int rows = p.studentRows(), t = p.grid() * p.grid(), dim = p.dim(), clones = 16;
            Tensor pred = rand(dev, rows, t, dim), target = rand(dev, rows / clones, t, dim), dpred = rand(dev, rows, t, dim);
            int[] m = new int[rows * t];
            for (int i = 0; i < m.length; i++) m[i] = i % 5 == 0 ? 0 : 1; // 80% masked, as the image preset
            Tensor mask = Tensor.ofInts(dev, org.d2v.tensor.Shape.of(rows, t), m), loss = rand(dev, 1);
            LossDesc d = new LossDesc(rows, t, dim, clones, 1 / Math.sqrt(dim), rows * t);
            return new OpCase.Prepared(() -> dev.ops().maskedRegression(d, pred, target, mask, loss, dpred, 1.0),
                    4.0 * (2.0 * rows * t * dim + (double) rows / clones * t * dim), 4.0 * rows * t * dim);
        });
        add("adamw", (dev, p) -> {
            int n = (int) p.parameters();
            Tensor w = rand(dev, n), g = rand(dev, n), m = rand(dev, n), v = rand(dev, n), scale = rand(dev, 1);
            AdamWDesc d = new AdamWDesc(1e-3, 0.9, 0.95, 1e-8, 0.05, 10);
            return new OpCase.Prepared(() -> dev.ops().adamw(d, w, g, m, v, scale), 28.0 * n, 14.0 * n);
        });
        add("ema", (dev, p) -> {
            int n = (int) p.parameters();
            Tensor t = rand(dev, n), s = rand(dev, n);
            return new OpCase.Prepared(() -> dev.ops().ema(t, s, 0.9998), 12.0 * n, 3.0 * n);
        });
    }

    private static void add(String name, java.util.function.BiFunction<Device, Preset, OpCase.Prepared> f) {
        CASES.put(name, new OpCase() {
            @Override public String name() { return name; }

            @Override public Prepared prepare(Device device, Preset preset) { return f.apply(device, preset); }
        });
    }

    public static List<String> names() { return List.copyOf(CASES.keySet()); }

    public static OpCase get(String name) {
        OpCase c = CASES.get(name);
        if (c == null) throw new IllegalArgumentException("unknown op case " + name + "; known: " + CASES.keySet());
        return c;
    }

    // ---- builders ------------------------------------------------------------------------------

    private static long seed = 1;

    /** A tensor of uniform [0, 1) values (any finite data will do for timing). */
    static Tensor rand(Device dev, int... dims) {
        Tensor t = Tensor.empty(dev, DType.F32, dims);
        dev.ops().uniform(t, 42, seed);
        seed += t.numel();
        return t;
    }

    private static OpCase.Prepared linear(Device dev, int rows, int in, int out, boolean gelu) {
        Tensor x = rand(dev, rows, in), w = rand(dev, out, in), b = rand(dev, out), y = rand(dev, rows, out);
        Tensor pre = gelu ? rand(dev, rows, out) : null;
        MatmulDesc d = MatmulDesc.of(rows, out, in).withTransB(true)
                .withActivation(gelu ? MatmulDesc.Activation.GELU : MatmulDesc.Activation.NONE);
        double bytes = 4.0 * ((double) rows * in + (double) in * out + (double) rows * out * (gelu ? 2 : 1));
        return new OpCase.Prepared(() -> dev.ops().matmul(d, x, w, b, y, pre, false), bytes, d.flops());
    }

    private static OpCase.Prepared attention(Device dev, Preset p, int batch, int tokens, boolean backward) {
        int d = p.dim();
        AttentionDesc desc = AttentionDesc.of(batch, tokens, p.heads(), p.headDim());
        Tensor qkv = rand(dev, batch, tokens, 3 * d), out = rand(dev, batch, tokens, d);
        Tensor lse = rand(dev, batch, p.heads(), tokens);
        Ops ops = dev.ops();
        ops.attention(desc, qkv, null, null, null, null, out, lse);
        double io = 4.0 * batch * tokens * 4.0 * d;
        if (!backward) {
            return new OpCase.Prepared(() -> ops.attention(desc, qkv, null, null, null, null, out, lse), io, desc.flops());
        }
        Tensor dout = rand(dev, batch, tokens, d), dqkv = rand(dev, batch, tokens, 3 * d);
        Tensor delta = rand(dev, batch, p.heads(), tokens);
        return new OpCase.Prepared(() -> ops.attentionBackward(desc, qkv, null, null, null, null, out, dout, lse, delta,
                dqkv, null, false), 2 * io, 2.5 * desc.flops());
    }

    private static ConvDesc decoder2d(Preset p) {
        return ConvDesc.conv2d(p.studentRows(), p.decoderChannels(), p.decoderChannels(), p.grid(), p.grid(), 3, 1, 1,
                p.decoderGroups());
    }

    /** which: 0 forward, 1 input gradient, 2 weight gradient. */
    private static OpCase.Prepared conv(Device dev, ConvDesc d, int which) {
        Tensor x = rand(dev, d.batch(), d.inH(), d.inW(), d.inC());
        Tensor w = rand(dev, d.outC(), d.kH(), d.kW(), d.inPerGroup());
        Tensor b = rand(dev, d.outC());
        Tensor y = rand(dev, d.batch(), d.outH(), d.outW(), d.outC());
        double bytes = 4.0 * (x.numel() + w.numel() + y.numel());
        Ops ops = dev.ops();
        Runnable r = switch (which) {
            case 0 -> () -> ops.conv(d, x, w, b, y);
            case 1 -> () -> ops.convBackwardInput(d, y, w, x, false);
            default -> () -> ops.convBackwardWeight(d, x, y, w, b);
        };
        return new OpCase.Prepared(r, bytes, d.flops());
    }
}
