package org.d2v.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Backends;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.Device;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.kernel.FastVariants;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The device check's first minute: the device and its capabilities, the self-check of every fast
 * variant (active / disabled with the reason / unavailable), then one op of each kernel family on
 * small awkward shapes against the float64 reference, with the fast variants as the device chose
 * them and again with the portable kernels only; then the same in bf16 storage (activations BF16,
 * statistics, biases, parameters and their gradients F32, bf16 training's working copies written by
 * AdamW and EMA), where the bf16 fast variants take over. Exit status 1 when an op disagrees with
 * the reference (beyond 1e-5 relative, norm-wise; 1e-2 in bf16, a few bf16 roundings of the inputs'
 * values) or throws.
 *
 * <pre>usage: DeviceSmoke [--backend cuda]</pre>
 */
public final class DeviceSmoke {
    private static final double TOL = 1e-5;
    /** bf16 storage against float64 on the same bf16 inputs: a few roundings of 2^-9 (the self-check holds each variant tighter). */
    private static final double TOL_BF16 = 1e-2;

    private final Device dev;
    private final ReferenceDevice ref = new ReferenceDevice(DType.F64);
    private final Random rnd = new Random(20261201);
    private final List<String> failures = new ArrayList<>();
    /** The activations' dtype of the pass (F32, then BF16). */
    private DType act = DType.F32;
    private double tol = TOL;

    private DeviceSmoke(Device dev) { this.dev = dev; }

    public static void main(String[] args) {
        String backend = "cuda";
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--backend")) backend = args[++i];
            else throw new IllegalArgumentException("DeviceSmoke: unknown argument '" + args[i] + "' (--backend NAME)");
        }
        int failed;
        long t0 = System.nanoTime();
        try (Device dev = Backends.open(backend)) {
            System.out.println("device: " + dev.name());
            failed = new DeviceSmoke(dev).run();
        }
        System.out.printf(Locale.ROOT, "smoke: %s in %.1f s%n", failed == 0 ? "every family agrees with the reference" : failed + " FAILED",
                (System.nanoTime() - t0) / 1e9);
        System.exit(failed == 0 ? 0 : 1);
    }

    private int run() {
        if (dev.ops() instanceof KernelOps k) {
            System.out.println(k.variants().describe());
            long t = System.nanoTime();
            List<FastVariants.Status> st = k.fast().selfCheckAll();
            System.out.printf(Locale.ROOT, "self-checks: %.0f ms for %d variants%n", (System.nanoTime() - t) / 1e6, st.size());
            k.fast().describe().forEach(System.out::println);
            for (DType storage : new DType[] {DType.F32, DType.BF16}) {
                act = storage;
                tol = storage == DType.BF16 ? TOL_BF16 : TOL;
                for (boolean fast : new boolean[] {true, false}) {
                    k.fast().setEnabled(fast);
                    families(storage + " storage, " + (fast ? "fast variants where active" : "portable kernels only"));
                }
            }
            act = DType.F32;
            tol = TOL;
            k.fast().setEnabled(true);
        } else {
            families("reference ops");
        }
        ref.close();
        return failures.size();
    }

    // ---- one op per family ---------------------------------------------------------------------

    private record Pair(Tensor d, Tensor r) {}

    /** An activation: stored in the pass's dtype, the reference holding the very same (rounded) values. */
    private Pair randn(int... dims) { return randn(act, dims); }

    /** Kept in F32 whatever the activations: biases, statistics, parameters, gradients of parameters. */
    private Pair randn32(int... dims) { return randn(DType.F32, dims); }

    private Pair randn(DType dtype, int... dims) {
        double[] v = new double[Math.toIntExact(Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) v[i] = dtype == DType.BF16 ? Bf16.round(rnd.nextGaussian()) : (float) rnd.nextGaussian();
        return new Pair(Tensor.of(dev, dtype, Shape.of(dims), v), Tensor.of(ref, DType.F64, Shape.of(dims), v));
    }

    private Pair zeros(int... dims) { return zeros(act, dims); }

    private Pair zeros32(int... dims) { return zeros(DType.F32, dims); }

    private Pair zeros(DType dtype, int... dims) {
        return new Pair(Tensor.zeros(dev, dtype, dims), Tensor.zeros(ref, DType.F64, dims));
    }

    private Pair ints(int[] v, int... dims) {
        return new Pair(Tensor.ofInts(dev, Shape.of(dims), v), Tensor.ofInts(ref, Shape.of(dims), v));
    }

    /** Runs {@code op} on both devices and compares the named outputs. */
    private void check(String family, Consumer<Boolean> op, Pair... outputs) {
        try {
            op.accept(true);
            op.accept(false);
            double worst = 0;
            for (Pair p : outputs) worst = Math.max(worst, relError(p.d().toDoubles(), p.r().toDoubles()));
            boolean ok = worst <= tol;
            if (!ok) failures.add(act + " " + family);
            System.out.printf(Locale.ROOT, "  %-34s %.2e %s%n", family, worst, ok ? "ok" : "FAIL (> " + tol + ")");
        } catch (RuntimeException e) {
            failures.add(act + " " + family);
            System.out.printf("  %-34s FAIL: %s%n", family, e);
        }
    }

    private static double relError(double[] k, double[] r) {
        double num = 0, den = 0;
        for (int i = 0; i < k.length; i++) {
            if (!Double.isFinite(k[i])) return Double.POSITIVE_INFINITY;
            num += (k[i] - r[i]) * (k[i] - r[i]);
            den += r[i] * r[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private Ops on(boolean device) { return device ? dev.ops() : ref.ops(); }

    private static Tensor of(Pair p, boolean device) { return p == null ? null : device ? p.d() : p.r(); }

    private void families(String how) {
        System.out.println("one op per family against the float64 reference (" + how + "):");
        try (Scope s = Scope.open()) {
            MatmulDesc lin = new MatmulDesc(1, 129, 136, 72, false, true, false, MatmulDesc.Activation.GELU);
            Pair x = randn(129, 72), w = randn(136, 72), b = randn32(136), y = zeros(129, 136), pre = zeros(129, 136);
            check("matmul nt + bias + GELU", d -> on(d).matmul(lin, of(x, d), of(w, d), of(b, d), of(y, d), of(pre, d), false), y, pre);
            MatmulDesc wg = new MatmulDesc(1, 72, 136, 129, true, false, false, MatmulDesc.Activation.NONE);
            Pair dw = randn32(72, 136); // a weight gradient: fp32 (in bf16 storage, the bf16-f32 GEMM)
            check("matmul tn accumulated", d -> on(d).matmul(wg, of(x, d), of(y, d), null, of(dw, d), null, true), dw);

            AttentionDesc ad = AttentionDesc.of(3, 40, 2, 64).withAlibi(true);
            Pair qkv = randn(3, 40, 3, 2, 64), sl = randn32(2), sc = randn32(2), out = zeros(3, 40, 2, 64), lse = zeros32(3, 2, 40);
            int[] posv = new int[120];
            for (int i = 0; i < posv.length; i++) posv[i] = i % 40;
            Pair pos = ints(posv, 3, 40);
            check("attention forward (ALiBi)", d -> on(d).attention(ad, of(qkv, d), of(sl, d), of(sc, d), of(pos, d), null, of(out, d),
                    of(lse, d)), out, lse);
            Pair dout = randn(3, 40, 2, 64), delta = zeros32(3, 2, 40), dqkv = zeros(3, 40, 3, 2, 64), ds = zeros32(2);
            check("attention backward", d -> on(d).attentionBackward(ad, of(qkv, d), of(sl, d), of(sc, d), of(pos, d), null, of(out, d),
                    of(dout, d), of(lse, d), of(delta, d), of(dqkv, d), of(ds, d), false), dqkv, ds);

            ConvDesc cd = ConvDesc.conv2d(2, 96, 96, 7, 6, 3, 1, 1, 2);
            Pair cx = randn(2, 7, 6, 96), cw = randn(96, 3, 3, 48), cb = randn32(96), cy = zeros(2, 7, 6, 96);
            check("conv forward (grouped 3x3)", d -> on(d).conv(cd, of(cx, d), of(cw, d), of(cb, d), of(cy, d)), cy);
            Pair cdx = zeros(2, 7, 6, 96), cdw = zeros32(96, 3, 3, 48), cdb = zeros32(96);
            check("conv backward input + weight", d -> {
                on(d).convBackwardInput(cd, of(cy, d), of(cw, d), of(cdx, d), false);
                on(d).convBackwardWeight(cd, of(cx, d), of(cy, d), of(cdw, d), of(cdb, d));
            }, cdx, cdw, cdb);

            NormDesc nd = new NormDesc(37, 768, 1e-5);
            Pair lx = randn(37, 768), g = randn32(768), be = randn32(768), ly = zeros(37, 768), mean = zeros32(37), rstd = zeros32(37);
            check("layerNorm forward", d -> on(d).layerNorm(nd, of(lx, d), of(g, d), of(be, d), of(ly, d), of(mean, d), of(rstd, d)),
                    ly, mean, rstd);
            Pair ldx = zeros(37, 768), dg = zeros32(768), db = zeros32(768);
            check("layerNorm backward", d -> on(d).layerNormBackward(nd, of(lx, d), of(g, d), of(mean, d), of(rstd, d), of(ly, d),
                    of(ldx, d), of(dg, d), of(db, d), false), ldx, dg, db);

            Pair ea = randn(1003), eb = randn(1003), es = zeros(1003), eg = zeros(1003);
            check("elementwise add, GELU", d -> {
                on(d).add(of(ea, d), of(eb, d), of(es, d));
                on(d).gelu(of(es, d), of(eg, d));
            }, es, eg);

            int[] maskv = new int[6 * 7];
            for (int i = 0; i < maskv.length; i++) maskv[i] = rnd.nextDouble() < 0.6 ? 1 : 0;
            LossDesc ld = new LossDesc(6, 7, 48, 3, 1.0, 5.0);
            Pair pred = randn(6, 7, 48), target = randn32(2, 7, 48), mask = ints(maskv, 6, 7), loss = zeros32(1), dpred = zeros(6, 7, 48);
            check("masked regression loss", d -> on(d).maskedRegression(ld, of(pred, d), of(target, d), of(mask, d), of(loss, d),
                    of(dpred, d), 0.37), loss, dpred);

            AdamWDesc aw = new AdamWDesc(1e-3, 0.9, 0.95, 1e-8, 0.05, 3);
            Pair p = randn32(1003), gr = randn32(1003), m = randn32(1003), v = zeros32(1003), t = randn32(1003);
            // bf16 training: fp32 masters with a bf16 working copy (the reference's copy is F64: just the masters' values)
            Pair pw = act == DType.BF16 ? zeros(1003) : null, tw = act == DType.BF16 ? zeros(1003) : null;
            check("AdamW + EMA" + (pw != null ? " with working copies" : ""), d -> {
                on(d).adamw(aw, of(p, d), of(gr, d), of(m, d), of(v, d), null, of(pw, d));
                on(d).ema(of(t, d), of(p, d), 0.999, of(tw, d));
            }, pw != null ? new Pair[] {p, m, v, t, pw, tw} : new Pair[] {p, m, v, t});
        }
    }
}
