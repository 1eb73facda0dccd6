package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.Ops;
import org.d2v.backend.kernel.FastVariants;
import org.d2v.backend.kernel.FastVariants.State;
import org.d2v.backend.kernel.KernelOps;
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
 * The CUDA fast paths dispatched exactly as on a GPU, without one: the op set of an
 * {@link EmulatedGpu} (a small sm_90 GPU whose launches run in the host emulator) takes the
 * registry's CUDA-only variants (and cuBLASLt's, over the CPU stand-in of native/fakes), so each
 * variant's Java side (kernel, argument order and offsets, grid and block, the launch sequence
 * with its scratch and reductions) runs for real: first in its self-check against the portable
 * kernels (also in the emulator), then on these calls, whose results are held to the float64
 * reference. Shapes are small and awkward (tails, views off the 16-byte alignment, sizes off the
 * tile multiples) and include ones a variant's preconditions send back to the portable kernels.
 * Without g++ the class skips, except in CI, where that fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmulatedGpuFastPathTest {
    private static final double TOL = 1e-5;

    private EmulatedGpu gpu;
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
        // as CudaDevice registers them; the stand-in needs no workspace
        fast().register(CublasLtVariants.all(gpu, gpu, 0));
        ref = new ReferenceDevice(DType.F64);
        refOps = ref.ops();
    }

    @AfterAll
    void close() {
        try {
            if (gpu != null) {
                System.out.println(String.join("\n", fast().describe()));
                System.out.println("kernels launched: " + gpu.launchChecks().launched());
                StringBuilder s = new StringBuilder("largest relative errors against the float64 reference:");
                worst.forEach((k, v) -> s.append(String.format("%n  %-28s %.3e", k, v)));
                System.out.println(s);
                gpu.close();
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

    private FastVariants fast() { return ((KernelOps) gpu.ops()).fast(); }

    private Set<String> launched() { return gpu.launchChecks().launched(); }

    private void assertActive(String variant) {
        FastVariants.Status s = fast().status(variant);
        assertEquals(State.ACTIVE, s.state(), variant + ": " + s.describe());
        assertTrue(launched().contains(variant), variant + " never launched: " + launched());
    }

    // ---- paired tensors ------------------------------------------------------------------------

    private record Pair(Tensor g, Tensor r) {}

    private double[] values(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    /** The same values on the emulated GPU (a view {@code offset} elements into its buffer) and the reference. */
    private Pair pair(double[] v, int offset, int... dims) {
        double[] padded = new double[offset + v.length];
        System.arraycopy(v, 0, padded, offset, v.length);
        Tensor g = Tensor.of(gpu, DType.F32, Shape.of(padded.length), padded).view(offset, Shape.of(dims));
        return new Pair(g, Tensor.of(ref, DType.F64, Shape.of(dims), v));
    }

    private Pair randnAt(int offset, int... dims) { return pair(values(Math.toIntExact(Shape.of(dims).numel())), offset, dims); }

    private Pair randn(int... dims) { return randnAt(0, dims); }

    /** NaN on the GPU (so unwritten elements show), zeros on the reference. */
    private Pair outAt(int offset, int... dims) {
        double[] nan = new double[Math.toIntExact(Shape.of(dims).numel())];
        java.util.Arrays.fill(nan, Double.NaN);
        Pair p = pair(nan, offset, dims);
        return new Pair(p.g(), Tensor.zeros(ref, DType.F64, dims));
    }

    private Pair out(int... dims) { return outAt(0, dims); }

    private Pair uniform(double lo, double hi, int... dims) {
        double[] v = new double[Math.toIntExact(Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return pair(v, 0, dims);
    }

    private void assertClose(String what, Pair p) {
        double[] g = p.g().toDoubles(), r = p.r().toDoubles();
        double num = 0, den = 0;
        for (int i = 0; i < g.length; i++) {
            if (!Double.isFinite(g[i])) fail(what + ": element " + i + " is " + g[i] + " (seed " + seed + ")");
            num += (g[i] - r[i]) * (g[i] - r[i]);
            den += r[i] * r[i];
        }
        double e = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        worst.merge(what.replaceAll(" \\(.*", ""), e, Math::max);
        assertTrue(e <= TOL, String.format("%s: relative error %.3e > %.0e (seed %d)", what, e, TOL, seed));
    }

    // ---- elementwise_vec.cu --------------------------------------------------------------------

    @Test
    void elementwiseKernelsOnTailsAndUnalignedViews() {
        for (int[] c : new int[][] {{1003, 0}, {517, 1}}) {
            int n = c[0], off = c[1];
            String what = " (n " + n + ", offset " + off + ")";
            Pair a = randnAt(off, n), b = randnAt(off, n), sum = outAt(off, n);
            gpu.ops().add(a.g(), b.g(), sum.g());
            refOps.add(a.r(), b.r(), sum.r());
            assertClose("add" + what, sum);
            Pair y = randnAt(off, n);
            gpu.ops().axpby(0.5, a.g(), -1.5, y.g());
            refOps.axpby(0.5, a.r(), -1.5, y.r());
            assertClose("axpby" + what, y);
            Pair g = outAt(off, n);
            gpu.ops().gelu(a.g(), g.g());
            refOps.gelu(a.r(), g.r());
            assertClose("gelu" + what, g);
            Pair dx = randnAt(off, n);
            gpu.ops().geluBackward(a.g(), b.g(), dx.g(), true);
            refOps.geluBackward(a.r(), b.r(), dx.r(), true);
            assertClose("geluBackward" + what, dx);
        }
        for (String v : new String[] {"add_vec_f32", "axpby_vec_f32", "gelu_forward_vec_f32", "gelu_backward_vec_f32"}) {
            assertActive("elementwise_vec/" + v);
        }
    }

    // ---- norm_vec.cu -----------------------------------------------------------------------------

    @Test
    void layerNormVectorisedWhereItFitsPortableWhereNot() {
        for (int[] c : new int[][] {{37, 768}, {6, 1024}, {3, 100}}) {
            int rows = c[0], dim = c[1];
            String what = " (" + rows + "x" + dim + ")";
            NormDesc d = new NormDesc(rows, dim, 1e-5);
            Pair x = randn(rows, dim), gamma = randn(dim), beta = randn(dim);
            Pair y = out(rows, dim), mean = out(rows), rstd = out(rows);
            gpu.ops().layerNorm(d, x.g(), gamma.g(), beta.g(), y.g(), mean.g(), rstd.g());
            refOps.layerNorm(d, x.r(), gamma.r(), beta.r(), y.r(), mean.r(), rstd.r());
            assertClose("layerNorm y" + what, y);
            assertClose("layerNorm mean" + what, mean);
            assertClose("layerNorm rstd" + what, rstd);
            Pair dy = randn(rows, dim), dx = randn(rows, dim), dgamma = randn(dim), dbeta = randn(dim);
            gpu.ops().layerNormBackward(d, x.g(), gamma.g(), mean.g(), rstd.g(), dy.g(), dx.g(), dgamma.g(), dbeta.g(), true);
            refOps.layerNormBackward(d, x.r(), gamma.r(), mean.r(), rstd.r(), dy.r(), dx.r(), dgamma.r(), dbeta.r(), true);
            assertClose("layerNormBackward dx" + what, dx);
            assertClose("layerNormBackward dgamma" + what, dgamma);
            assertClose("layerNormBackward dbeta" + what, dbeta);
        }
        assertActive("norm_vec/layer_norm_forward_vec_f32");
        assertActive("norm_vec/layer_norm_backward_vec_f32");
        // 3x100 is not the vector kernels' shape: the portable (GPU-shaped) kernels took it
        assertTrue(launched().contains("norm/layer_norm_forward"), launched().toString());
    }

    @Test
    void instanceNormOverTime() {
        for (int[] c : new int[][] {{3, 37, 136}, {2, 5, 12}}) {
            int b = c[0], t = c[1], ch = c[2];
            String what = " (" + b + "x" + t + "x" + ch + ")";
            Pair x = randn(b, t, ch), y = out(b, t, ch), mean = out(b, ch), rstd = out(b, ch);
            gpu.ops().instanceNorm(b, t, ch, 1e-5, x.g(), y.g(), mean.g(), rstd.g());
            refOps.instanceNorm(b, t, ch, 1e-5, x.r(), y.r(), mean.r(), rstd.r());
            assertClose("instanceNorm y" + what, y);
            assertClose("instanceNorm rstd" + what, rstd);
            Pair dy = randn(b, t, ch), dx = randn(b, t, ch);
            gpu.ops().instanceNormBackward(b, t, ch, x.g(), mean.g(), rstd.g(), dy.g(), dx.g(), true);
            refOps.instanceNormBackward(b, t, ch, x.r(), mean.r(), rstd.r(), dy.r(), dx.r(), true);
            assertClose("instanceNormBackward dx" + what, dx);
        }
        assertActive("norm_vec/instance_norm_forward_vec_f32");
        assertActive("norm_vec/instance_norm_backward_vec_f32");
    }

    // ---- loss_vec.cu, optim_vec.cu -------------------------------------------------------------

    @Test
    void maskedRegressionWithItsOwnPartials() {
        for (int dim : new int[] {48, 13}) {
            int rows = 6, tokens = 7, clones = 3;
            LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.0, 5.0);
            int[] mask = new int[rows * tokens];
            for (int i = 0; i < mask.length; i++) mask[i] = rnd.nextDouble() < 0.6 ? 1 : 0;
            Tensor gm = Tensor.ofInts(gpu, Shape.of(rows, tokens), mask), rm = Tensor.ofInts(ref, Shape.of(rows, tokens), mask);
            Pair pred = randn(rows, tokens, dim), target = randn(rows / clones, tokens, dim);
            Pair loss = out(1), dpred = out(rows, tokens, dim);
            gpu.ops().maskedRegression(d, pred.g(), target.g(), gm, loss.g(), dpred.g(), 0.37);
            refOps.maskedRegression(d, pred.r(), target.r(), rm, loss.r(), dpred.r(), 0.37);
            assertClose("maskedRegression loss (dim " + dim + ")", loss);
            assertClose("maskedRegression dpred (dim " + dim + ")", dpred);
        }
        assertActive("loss_vec/masked_regression_vec_f32");
    }

    @Test
    void adamwWithTheDeviceGradientScaleAndEma() {
        for (int[] c : new int[][] {{1003, 0}, {64, 1}}) {
            int n = c[0], off = c[1];
            AdamWDesc d = new AdamWDesc(1e-3, 0.9, 0.95, 1e-8, 0.05, 7);
            Pair p = randnAt(off, n), g = randnAt(off, n), m = randnAt(off, n), v = uniform(0, 0.1, n), scale = pair(new double[] {0.7}, 0, 1);
            gpu.ops().adamw(d, p.g(), g.g(), m.g(), v.g(), scale.g());
            refOps.adamw(d, p.r(), g.r(), m.r(), v.r(), scale.r());
            String what = " (n " + n + ", offset " + off + ")";
            assertClose("adamw p" + what, p);
            assertClose("adamw m" + what, m);
            assertClose("adamw v" + what, v);
            Pair t = randnAt(off, n);
            gpu.ops().ema(t.g(), g.g(), 0.999);
            refOps.ema(t.r(), g.r(), 0.999);
            assertClose("ema" + what, t);
        }
        assertActive("optim_vec/adamw_vec");
        assertActive("optim_vec/ema_vec");
        // bf16 training: the same kernels write the bf16 working copy of the masters in the same pass
        int n = 1003;
        AdamWDesc d = new AdamWDesc(1e-3, 0.9, 0.95, 1e-8, 0.05, 3);
        Pair p = randn(n), g = randn(n), m = randn(n), v = uniform(0, 0.1, n);
        Tensor pb = Tensor.empty(gpu, DType.BF16, Shape.of(n)), tb = Tensor.empty(gpu, DType.BF16, Shape.of(n));
        long before = gpu.counters().launches();
        gpu.ops().adamw(d, p.g(), g.g(), m.g(), v.g(), null, pb);
        assertEquals(1, gpu.counters().launches() - before, "adamw_vec, working copy included, in one launch");
        refOps.adamw(d, p.r(), g.r(), m.r(), v.r(), null);
        assertClose("adamw p with a working copy", p);
        assertWorkingCopy("adamw working copy", pb, p.g());
        Pair t = randn(n);
        gpu.ops().ema(t.g(), g.g(), 0.99, tb);
        refOps.ema(t.r(), g.r(), 0.99);
        assertClose("ema with a working copy", t);
        assertWorkingCopy("ema working copy", tb, t.g());
    }

    /** The working copy holds exactly the masters rounded to bf16. */
    private void assertWorkingCopy(String what, Tensor copy, Tensor masters) {
        double[] c = copy.toDoubles(), m = masters.toDoubles();
        for (int i = 0; i < c.length; i++) {
            assertEquals(org.d2v.tensor.Bf16.round(m[i]), c[i], 0.0, what + ": element " + i + " (seed " + seed + ")");
        }
    }

    // ---- cuBLASLt (the stand-in) ---------------------------------------------------------------

    @Test
    void cublasLtTakesTheGemmsWithD2vsExactGelu() {
        if (cublasLt != null) Assumptions.abort("cuBLASLt stand-in: " + cublasLt);
        // Linear + GELU with the pre-activation: cuBLASLt's tanh GELU fails the fp32 check, the plain one runs
        int m = 33, n = 40, k = 24;
        MatmulDesc linear = new MatmulDesc(1, m, n, k, false, true, false, MatmulDesc.Activation.GELU);
        Pair x = randn(m, k), w = randn(n, k), bias = randn(n), c = out(m, n), pre = out(m, n);
        gpu.ops().matmul(linear, x.g(), w.g(), bias.g(), c.g(), pre.g(), false);
        refOps.matmul(linear, x.r(), w.r(), bias.r(), c.r(), pre.r(), false);
        assertClose("matmul gelu (nt 33x40x24)", c);
        assertClose("matmul preact (nt 33x40x24)", pre);

        FastVariants.Status fused = fast().status("cublaslt/f32-gelu-epilogue");
        assertEquals(State.DISABLED, fused.state(), fused.describe());
        assertTrue(fused.reason().matches("case .*GELU.*relative error .* > 1e-05 against the portable kernels.*"), fused.reason());
        FastVariants.Status plain = fast().status("cublaslt/f32");
        assertEquals(State.ACTIVE, plain.state(), plain.describe());
        assertTrue(launched().contains("elementwise/gelu_forward"), "d2v's exact GELU after the product: " + launched());

        // a weight gradient accumulated (tn), and a batch with B broadcast
        MatmulDesc wgrad = new MatmulDesc(1, 24, 40, 33, true, false, false, MatmulDesc.Activation.NONE);
        Pair dy = randn(33, 24), xin = randn(33, 40), dw = randn(24, 40);
        gpu.ops().matmul(wgrad, dy.g(), xin.g(), null, dw.g(), null, true);
        refOps.matmul(wgrad, dy.r(), xin.r(), null, dw.r(), null, true);
        assertClose("matmul tn accumulated", dw);
        MatmulDesc batched = new MatmulDesc(3, 17, 8, 16, false, false, true, MatmulDesc.Activation.NONE);
        Pair a = randn(3 * 17 * 16), b = randn(16 * 8), cb = out(3 * 17 * 8);
        gpu.ops().matmul(batched, a.g(), b.g(), null, cb.g(), null, false);
        refOps.matmul(batched, a.r(), b.r(), null, cb.r(), null, false);
        assertClose("matmul batch 3 broadcast B", cb);
        assertEquals(1, fast().checksRun("cublaslt/f32"));
    }
}
