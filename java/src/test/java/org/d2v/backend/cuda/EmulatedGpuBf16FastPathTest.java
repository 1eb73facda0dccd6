package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.kernel.FastCall;
import org.d2v.backend.kernel.FastVariant;
import org.d2v.backend.kernel.FastVariants;
import org.d2v.backend.kernel.FastVariants.State;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.kernel.TensorCoreLaunches;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.jni.CublasLtStandIn;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The bf16 fast variants dispatched as on a GPU, without one: on an {@link EmulatedGpu} (launches
 * in the host emulator, whose bf16 and bf16-f32 builds run the portable twins in those storage
 * flavours) a call with BF16 activations goes to the tensor-core GEMM, FlashAttention-2-style
 * attention, the tensor-core grouped conv and the _bf16 memory-bound kernels, each after its bf16
 * self-check against the portable bf16 twin (errors measured against the fp32 twin: at most twice
 * the bf16 twin's or bf16 storage's). The results of these calls are then held to the float64
 * reference (on the bf16 input values) within a few bf16 roundings; fp32 calls keep the fp32 paths.
 * A deliberately wrong bf16 variant (a GEMM that drops the last 8 of K; an add off by 4 bf16 ulps,
 * within the old flat 1e-2 tolerance) is disabled with its reason. Without g++ the class skips,
 * except in CI, where that fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmulatedGpuBf16FastPathTest {
    /** Outputs stored in bf16 against float64 on the same bf16 inputs: a few roundings of 2^-9 (EmulationTestBase.BF16_TOL). */
    private static final double TOL = 1e-2;

    /** Without cuBLASLt (so gemm_tc serves bf16 matmul), and with the stand-in of native/fakes. */
    private EmulatedGpu gpu, gpuLt;
    private ReferenceDevice ref;
    private Ops refOps;
    private String cublasLt;
    private Random rnd;
    private long seed;
    private Scope scope;
    private final Map<String, Double> worst = new TreeMap<>();

    @BeforeAll
    void open() {
        if (TensorCoreEmulator.binary() == null) {
            if ("true".equals(System.getenv("CI"))) fail(TensorCoreEmulator.unavailable());
            Assumptions.abort(TensorCoreEmulator.unavailable());
        }
        cublasLt = CublasLtStandIn.use();
        if (cublasLt != null && "true".equals(System.getenv("CI"))) fail("the cuBLASLt stand-in must load in CI: " + cublasLt);
        gpu = new EmulatedGpu();
        gpuLt = new EmulatedGpu();
        fast(gpuLt).register(CublasLtVariants.all(gpuLt, gpuLt, 0));
        ref = new ReferenceDevice(DType.F64);
        refOps = ref.ops();
    }

    @AfterAll
    void close() {
        try {
            if (gpu != null) {
                System.out.println(String.join("\n", fast(gpu).describe()));
                System.out.println(String.join("\n", fast(gpuLt).describe()));
                StringBuilder s = new StringBuilder("largest relative errors against the float64 reference (bf16 storage):");
                worst.forEach((k, v) -> s.append(String.format("%n  %-32s %.3e", k, v)));
                System.out.println(s);
                gpu.close();
                gpuLt.close();
            }
            if (ref != null) ref.close();
        } finally {
            CublasLtStandIn.restore();
        }
    }

    @BeforeEach
    void seed() {
        seed = System.nanoTime();
        rnd = new Random(seed);
        scope = Scope.open();
    }

    @AfterEach
    void closeScope() { scope.close(); }

    private static FastVariants fast(EmulatedGpu g) { return ((KernelOps) g.ops()).fast(); }

    private void assertActive(EmulatedGpu g, String variant, String kernel) {
        FastVariants.Status s = fast(g).status(variant);
        assertEquals(State.ACTIVE, s.state(), variant + ": " + s.describe());
        assertTrue(g.launchChecks().launched().contains(kernel), kernel + " never launched: " + g.launchChecks().launched());
    }

    // ---- paired tensors: bf16 (or f32) on the emulated GPU, float64 of the same values on the reference ----

    private record Pair(Tensor g, Tensor r) {}

    private double[] values(int n, boolean bf16) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = bf16 ? org.d2v.tensor.Bf16.round(rnd.nextGaussian()) : (float) rnd.nextGaussian();
        return v;
    }

    private Pair pair(EmulatedGpu g, DType dtype, double[] v, int offset, int... dims) {
        double[] padded = new double[offset + v.length];
        System.arraycopy(v, 0, padded, offset, v.length);
        Tensor t = Tensor.of(g, dtype, Shape.of(padded.length), padded).view(offset, Shape.of(dims));
        return new Pair(t, Tensor.of(ref, DType.F64, Shape.of(dims), v));
    }

    private Pair bf16(int... dims) { return bf16At(gpu, 0, dims); }

    private Pair bf16At(EmulatedGpu g, int offset, int... dims) {
        return pair(g, DType.BF16, values(Math.toIntExact(Shape.of(dims).numel()), true), offset, dims);
    }

    private Pair f32(EmulatedGpu g, int... dims) { return pair(g, DType.F32, values(Math.toIntExact(Shape.of(dims).numel()), true), 0, dims); }

    /** NaN on the GPU (unwritten elements show), zeros on the reference. */
    private Pair out(EmulatedGpu g, DType dtype, int... dims) {
        double[] nan = new double[Math.toIntExact(Shape.of(dims).numel())];
        java.util.Arrays.fill(nan, Double.NaN);
        Pair p = pair(g, dtype, nan, 0, dims);
        return new Pair(p.g(), Tensor.zeros(ref, DType.F64, dims));
    }

    private void assertClose(String what, Pair p, double tol) {
        double[] g = p.g().toDoubles(), r = p.r().toDoubles();
        double num = 0, den = 0;
        for (int i = 0; i < g.length; i++) {
            if (Double.isInfinite(r[i]) && g[i] == r[i]) continue;
            if (!Double.isFinite(g[i])) fail(what + ": element " + i + " is " + g[i] + " (seed " + seed + ")");
            num += (g[i] - r[i]) * (g[i] - r[i]);
            den += r[i] * r[i];
        }
        double e = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        worst.merge(what.replaceAll(" \\(.*", ""), e, Math::max);
        assertTrue(e <= tol, String.format("%s: relative error %.3e > %.0e (seed %d)", what, e, tol, seed));
    }

    private void assertClose(String what, Pair p) { assertClose(what, p, TOL); }

    // ---- gemm_tc (no cuBLASLt) and cuBLASLt bf16 (the stand-in) ---------------------------------

    private void linearGelu(EmulatedGpu g, String what) {
        int m = 70, n = 136, k = 40;
        MatmulDesc linear = new MatmulDesc(1, m, n, k, false, true, false, MatmulDesc.Activation.GELU);
        Pair x = bf16At(g, 0, m, k), w = bf16At(g, 0, n, k), bias = f32(g, n), c = out(g, DType.BF16, m, n), pre = out(g, DType.BF16, m, n);
        g.ops().matmul(linear, x.g(), w.g(), bias.g(), c.g(), pre.g(), false);
        refOps.matmul(linear, x.r(), w.r(), bias.r(), c.r(), pre.r(), false);
        assertClose(what + " gelu (nt 70x136x40)", c);
        assertClose(what + " preact (nt 70x136x40)", pre);
        // a weight gradient into fp32, accumulated (the bf16-f32 flavour): tn 40x136x70
        MatmulDesc wgrad = new MatmulDesc(1, 40, 136, 70, true, false, false, MatmulDesc.Activation.NONE);
        Pair dy = bf16At(g, 0, 70, 40), xin = bf16At(g, 0, 70, 136), dw = f32(g, 40, 136);
        g.ops().matmul(wgrad, dy.g(), xin.g(), null, dw.g(), null, true);
        refOps.matmul(wgrad, dy.r(), xin.r(), null, dw.r(), null, true);
        assertClose(what + " tn into fp32 accumulated", dw, 1e-5);
    }

    @Test
    void tensorCoreGemmServesBf16MatmulWhereCublasLtIsAbsent() {
        linearGelu(gpu, "gemm_tc");
        assertActive(gpu, "gemm_tc/gemm_tc_{nn,nt,tn}", "gemm_tc/gemm_tc_nt");
        assertTrue(gpu.launchChecks().launched().contains("gemm_tc/gemm_tc_tn"), gpu.launchChecks().launched().toString());
        // both operands transposed: no gemm_tc layout, the portable bf16 GEMM takes it
        MatmulDesc tt = new MatmulDesc(1, 17, 24, 16, true, true, false, MatmulDesc.Activation.NONE);
        Pair a = bf16(16, 17), b = bf16(24, 16), c = out(gpu, DType.BF16, 17, 24);
        gpu.ops().matmul(tt, a.g(), b.g(), null, c.g(), null, false);
        refOps.matmul(tt, a.r(), b.r(), null, c.r(), null, false);
        assertClose("portable bf16 tt", c);
        assertTrue(gpu.launchChecks().launched().stream().anyMatch(s -> s.startsWith("gemm/gemm") && s.endsWith("@bf16")),
                gpu.launchChecks().launched().toString());
    }

    @Test
    void cublasLtBf16TakesTheGemmsWithAnFp32Bias() {
        if (cublasLt != null) Assumptions.abort("cuBLASLt stand-in: " + cublasLt);
        linearGelu(gpuLt, "cublaslt");
        // the tanh GELU of the epilogue is well inside bf16's rounding: its bf16 check passes
        FastVariants.Status fused = fast(gpuLt).status("cublaslt/bf16-gelu-epilogue");
        assertEquals(State.ACTIVE, fused.state(), fused.describe());
        FastVariants.Status plain = fast(gpuLt).status("cublaslt/bf16");
        assertEquals(State.ACTIVE, plain.state(), plain.describe());
        assertTrue(gpuLt.launchChecks().launched().stream().noneMatch(k -> k.startsWith("gemm_tc/")),
                "cuBLASLt first, gemm_tc never needed: " + gpuLt.launchChecks().launched());
    }

    // ---- attention_tc ------------------------------------------------------------------------------

    @Test
    void flashAttentionForwardAndBackwardForHeadSizes32_64_128() {
        for (int[] c : new int[][] {{3, 40, 2, 64}, {1, 70, 1, 32}, {2, 21, 1, 128}}) {
            int b = c[0], t = c[1], h = c[2], dh = c[3];
            AttentionDesc d = AttentionDesc.of(b, t, h, dh).withAlibi(true).withKeyPadding(true);
            String what = " (B " + b + " T " + t + " H " + h + " Dh " + dh + ")";
            int bt = b * t;
            Pair qkv = bf16(bt * 3 * h * dh), out = out(gpu, DType.BF16, bt * h * dh), lse = out(gpu, DType.F32, bt * h);
            Pair slopes = pair(gpu, DType.F32, uniform(h, 0.1, 0.5), 0, h), scale = pair(gpu, DType.F32, uniform(h, 0.5, 1.5), 0, h);
            int[] pos = new int[bt], pad = new int[bt];
            for (int i = 0; i < bt; i++) {
                pos[i] = i % t;
                pad[i] = i % t >= t - 2 ? 1 : 0;
            }
            Tensor gPos = Tensor.ofInts(gpu, Shape.of(b, t), pos), rPos = Tensor.ofInts(ref, Shape.of(b, t), pos);
            Tensor gPad = Tensor.ofInts(gpu, Shape.of(b, t), pad), rPad = Tensor.ofInts(ref, Shape.of(b, t), pad);
            gpu.ops().attention(d, qkv.g(), slopes.g(), scale.g(), gPos, gPad, out.g(), lse.g());
            refOps.attention(d, qkv.r(), slopes.r(), scale.r(), rPos, rPad, out.r(), lse.r());
            assertClose("attention out" + what, out);
            assertClose("attention lse" + what, lse, 1e-5);
            // the backward from the kernel's own out (as training does), the reference from its own
            Pair dout = bf16(bt * h * dh), dqkv = out(gpu, DType.BF16, bt * 3 * h * dh), dScale = pair(gpu, DType.F32, new double[h], 0, h);
            Tensor delta = Tensor.empty(gpu, DType.F32, Shape.of(bt * h)), rDelta = Tensor.zeros(ref, DType.F64, bt * h);
            gpu.ops().attentionBackward(d, qkv.g(), slopes.g(), scale.g(), gPos, gPad, out.g(), dout.g(), lse.g(), delta, dqkv.g(), dScale.g(), false);
            refOps.attentionBackward(d, qkv.r(), slopes.r(), scale.r(), rPos, rPad, out.r(), dout.r(), lse.r(), rDelta, dqkv.r(), dScale.r(), false);
            assertClose("attention dqkv" + what, dqkv, 2e-2);
            assertClose("attention dAlibiScale" + what, dScale, 2e-2);
        }
        assertActive(gpu, "attention_tc/attention_tc_forward_d{32,64,128}", "attention_tc/attention_tc_forward_d128");
        assertActive(gpu, "attention_tc/attention_tc_backward_{kv,q}_d{32,64,128}", "attention_tc/attention_tc_backward_kv_d32");
    }

    private double[] uniform(int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return v;
    }

    // ---- conv_tc -------------------------------------------------------------------------------------

    @Test
    void tensorCoreGroupedConvForwardAndGradients() {
        ConvDesc d = ConvDesc.conv2d(2, 32, 32, 6, 5, 3, 1, 1, 2);
        int xs = d.batch() * d.inH() * d.inW() * d.inC(), ys = d.batch() * d.outH() * d.outW() * d.outC();
        int ws = d.outC() * d.kH() * d.kW() * d.inPerGroup();
        Pair x = bf16(xs), w = bf16(ws), bias = f32(gpu, d.outC()), y = out(gpu, DType.BF16, ys);
        gpu.ops().conv(d, x.g(), w.g(), bias.g(), y.g());
        refOps.conv(d, x.r(), w.r(), bias.r(), y.r());
        assertClose("conv y", y);
        Pair dy = bf16(ys), dx = bf16(xs);
        gpu.ops().convBackwardInput(d, dy.g(), w.g(), dx.g(), true);
        refOps.convBackwardInput(d, dy.r(), w.r(), dx.r(), true);
        assertClose("conv dx accumulated", dx);
        Pair dw = f32(gpu, ws), db = f32(gpu, d.outC());
        gpu.ops().convBackwardWeight(d, x.g(), dy.g(), dw.g(), db.g());
        refOps.convBackwardWeight(d, x.r(), dy.r(), dw.r(), db.r());
        assertClose("conv dw (fp32)", dw, 1e-5);
        assertClose("conv dbias (fp32)", db, 1e-5);
        assertActive(gpu, "conv_tc/conv_tc_forward", "conv_tc/conv_tc_forward");
        assertActive(gpu, "conv_tc/conv_tc_backward_input", "conv_tc/conv_tc_backward_input");
        assertActive(gpu, "conv_tc/conv_tc_backward_weight", "conv_tc/conv_tc_reduce_splits");
        assertTrue(gpu.launchChecks().launched().contains("conv_tc/conv_tc_bias_partial"), gpu.launchChecks().launched().toString());
    }

    // ---- the _bf16 memory-bound kernels ----------------------------------------------------------

    @Test
    void vectorisedBf16KernelsOnTailsAndUnalignedViews() {
        for (int[] c : new int[][] {{1003, 0}, {517, 3}}) {
            int n = c[0], off = c[1];
            String what = " (n " + n + ", offset " + off + ")";
            Pair a = bf16At(gpu, off, n), b = bf16At(gpu, off, n);
            Pair sum = pair(gpu, DType.BF16, new double[n], off, n);
            gpu.ops().add(a.g(), b.g(), sum.g());
            refOps.add(a.r(), b.r(), sum.r());
            assertClose("add" + what, sum);
            Pair y = bf16At(gpu, off, n);
            gpu.ops().axpby(0.5, a.g(), -1.5, y.g());
            refOps.axpby(0.5, a.r(), -1.5, y.r());
            assertClose("axpby" + what, y);
            Pair g = pair(gpu, DType.BF16, new double[n], off, n);
            gpu.ops().gelu(a.g(), g.g());
            refOps.gelu(a.r(), g.r());
            assertClose("gelu" + what, g);
            Pair dx = bf16At(gpu, off, n);
            gpu.ops().geluBackward(a.g(), b.g(), dx.g(), true);
            refOps.geluBackward(a.r(), b.r(), dx.r(), true);
            assertClose("geluBackward" + what, dx);
        }
        for (String v : new String[] {"add_vec_bf16", "axpby_vec_bf16", "gelu_forward_vec_bf16", "gelu_backward_vec_bf16"}) {
            assertActive(gpu, "elementwise_vec/" + v, "elementwise_vec/" + v);
        }
        int rows = 37, dim = 768;
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        Pair x = bf16(rows, dim), gamma = f32(gpu, dim), beta = f32(gpu, dim);
        Pair yn = out(gpu, DType.BF16, rows, dim), mean = out(gpu, DType.F32, rows), rstd = out(gpu, DType.F32, rows);
        gpu.ops().layerNorm(d, x.g(), gamma.g(), beta.g(), yn.g(), mean.g(), rstd.g());
        refOps.layerNorm(d, x.r(), gamma.r(), beta.r(), yn.r(), mean.r(), rstd.r());
        assertClose("layerNorm y", yn);
        assertClose("layerNorm rstd", rstd, 1e-5);
        Pair dy = bf16(rows, dim), dxn = out(gpu, DType.BF16, rows, dim), dgamma = f32(gpu, dim), dbeta = f32(gpu, dim);
        gpu.ops().layerNormBackward(d, x.g(), gamma.g(), mean.g(), rstd.g(), dy.g(), dxn.g(), dgamma.g(), dbeta.g(), false);
        refOps.layerNormBackward(d, x.r(), gamma.r(), mean.r(), rstd.r(), dy.r(), dxn.r(), dgamma.r(), dbeta.r(), false);
        assertClose("layerNormBackward dx", dxn);
        assertClose("layerNormBackward dgamma (fp32)", dgamma, 1e-5);
        assertClose("layerNormBackward dbeta (fp32)", dbeta, 1e-5);
        assertActive(gpu, "norm_vec/layer_norm_forward_vec_bf16", "norm_vec/layer_norm_forward_vec_bf16");
        assertActive(gpu, "norm_vec/layer_norm_backward_vec_bf16", "norm_vec/layer_norm_backward_vec_bf16");
        int bs = 2, t = 29, ch = 72;
        Pair xi = bf16(bs, t, ch), yi = out(gpu, DType.BF16, bs, t, ch), mi = out(gpu, DType.F32, bs, ch), ri = out(gpu, DType.F32, bs, ch);
        gpu.ops().instanceNorm(bs, t, ch, 1e-5, xi.g(), yi.g(), mi.g(), ri.g());
        refOps.instanceNorm(bs, t, ch, 1e-5, xi.r(), yi.r(), mi.r(), ri.r());
        assertClose("instanceNorm y", yi);
        Pair dyi = bf16(bs, t, ch), dxi = out(gpu, DType.BF16, bs, t, ch);
        gpu.ops().instanceNormBackward(bs, t, ch, xi.g(), mi.g(), ri.g(), dyi.g(), dxi.g(), false);
        refOps.instanceNormBackward(bs, t, ch, xi.r(), mi.r(), ri.r(), dyi.r(), dxi.r(), false);
        assertClose("instanceNormBackward dx", dxi);
        assertActive(gpu, "norm_vec/instance_norm_forward_vec_bf16", "norm_vec/instance_norm_forward_vec_bf16");
        assertActive(gpu, "norm_vec/instance_norm_backward_vec_bf16", "norm_vec/instance_norm_backward_vec_bf16");
    }

    // ---- a wrong bf16 variant is caught -----------------------------------------------------------

    /** A test-only bf16 variant over the emulated GPU's kernels. */
    private abstract static class Wrong<C extends FastCall> extends FastVariant<C> {
        final EmulatedGpu g;

        Wrong(String name, Class<C> op, EmulatedGpu g) {
            super(name, op, "the portable bf16 kernels", Precision.BF16);
            this.g = g;
        }

        @Override public String unavailable() { return null; }
    }

    @Test
    void wrongBf16VariantsAreDisabledAndThePortableKernelsServe() {
        EmulatedGpu g = new EmulatedGpu();
        try (Scope s = Scope.open()) {
            // gemm_tc told K is 8 less: the last 8 products of every dot go missing
            fast(g).register(new Wrong<>("test/gemm_tc-drops-the-last-8-of-k", FastCall.Matmul.class, g) {
                @Override public String inapplicable(FastCall.Matmul c) {
                    return c.a().dtype() == DType.BF16 && TensorCoreLaunches.gemmShape(c.d()) == null && c.d().k() > 8 && c.bias() == null
                            ? null : "not this test's shape";
                }
                @Override public void run(FastCall.Matmul c) {
                    MatmulDesc d = c.d();
                    MatmulDesc shorter = new MatmulDesc(d.batch(), d.m(), d.n(), d.k() - 8, d.transA(), d.transB(), d.broadcastB(), d.activation());
                    TensorCoreLaunches.Launch l = TensorCoreLaunches.gemm(shorter, c.a(), c.b(), c.bias(), c.c(), c.preact(), c.accumulate(),
                            c.c().dtype() == DType.BF16);
                    Object[] args = l.args().clone();
                    args[3] = d.m() * d.k(); // the real strides, so only K is wrong
                    args[4] = d.broadcastB() ? 0 : d.k() * d.n();
                    g.launch(l.program(), l.kernel(), l.global(), l.local(), args);
                }
            });
            // the right sum scaled by 1 + 2^-7: 4 bf16 ulps off, inside a flat 1e-2 tolerance, outside the bf16 rule
            fast(g).register(new Wrong<>("test/add-4-ulps-high", FastCall.Add.class, g) {
                @Override public String inapplicable(FastCall.Add c) { return c.a().dtype() == DType.BF16 ? null : "bf16 only"; }
                @Override public void run(FastCall.Add c) {
                    int n = (int) c.a().numel();
                    long[] global = {(n + 255L) / 256 * 256}, local = {256};
                    g.launch("elementwise_vec", "add_vec_bf16", global, local, n, c.a(), c.b(), c.out());
                    g.launch("elementwise_vec", "axpby_vec_bf16", global, local, n, 0f, c.out(), 1f + 1f / 128, c.out());
                }
            });
            MatmulDesc d = new MatmulDesc(1, 33, 40, 24, false, false, false, MatmulDesc.Activation.NONE);
            Pair a = bf16At(g, 0, 33, 24), b = bf16At(g, 0, 24, 40), c = out(g, DType.BF16, 33, 40);
            g.ops().matmul(d, a.g(), b.g(), null, c.g(), null, false);
            refOps.matmul(d, a.r(), b.r(), null, c.r(), null, false);
            assertClose("matmul after the wrong GEMM is disabled", c);
            Pair x = bf16At(g, 0, 300), y = bf16At(g, 0, 300), sum = out(g, DType.BF16, 300);
            g.ops().add(x.g(), y.g(), sum.g());
            refOps.add(x.r(), y.r(), sum.r());
            assertClose("add after the wrong add is disabled", sum, 3e-3);

            for (String name : List.of("test/gemm_tc-drops-the-last-8-of-k", "test/add-4-ulps-high")) {
                FastVariants.Status st = fast(g).status(name);
                assertEquals(State.DISABLED, st.state(), st.describe());
                assertTrue(st.reason().matches("case .*: output 1 of \\d: relative error .* against the fp32 twin > .* = 2 x max\\(bf16 twin's .*"),
                        st.reason());
            }
            // 2^-7 relative is caught although below 1e-2
            String add = fast(g).status("test/add-4-ulps-high").reason();
            double err = Double.parseDouble(add.replaceAll(".*relative error (\\S+) against.*", "$1"));
            assertTrue(err > 5e-3 && err < 1e-2, add);
            // the real ones took over: gemm_tc and add_vec_bf16 passed their checks and ran the calls
            assertEquals(State.ACTIVE, fast(g).status("gemm_tc/gemm_tc_{nn,nt,tn}").state());
            assertEquals(State.ACTIVE, fast(g).status("elementwise_vec/add_vec_bf16").state());
        } finally {
            g.close();
        }
    }

    // ---- fp32 calls keep the fp32 paths; d2v info's listing ------------------------------------

    @Test
    void fp32CallsNeverReachABf16Variant() {
        int n = 600;
        Pair a = pair(gpu, DType.F32, values(n, false), 0, n), b = pair(gpu, DType.F32, values(n, false), 0, n), sum = out(gpu, DType.F32, n);
        gpu.ops().add(a.g(), b.g(), sum.g());
        refOps.add(a.r(), b.r(), sum.r());
        assertClose("fp32 add", sum, 1e-6);
        assertEquals(State.ACTIVE, fast(gpu).status("elementwise_vec/add_vec_f32").state());
        List<String> lines = fast(gpu).describe();
        for (String v : List.of("gemm_tc/gemm_tc_{nn,nt,tn}", "attention_tc/attention_tc_forward_d{32,64,128}",
                "attention_tc/attention_tc_backward_{kv,q}_d{32,64,128}", "conv_tc/conv_tc_forward", "conv_tc/conv_tc_backward_input",
                "conv_tc/conv_tc_backward_weight", "elementwise_vec/add_vec_bf16", "norm_vec/layer_norm_backward_vec_bf16")) {
            assertTrue(lines.stream().anyMatch(l -> l.contains(v)), v + " not listed: " + lines);
        }
    }
}
