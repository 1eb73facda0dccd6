package org.d2v.jni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.d2v.backend.MatmulDesc;
import org.d2v.jni.CublasLt.Epilogue;
import org.d2v.jni.CublasLt.Gemm;
import org.d2v.jni.CublasLt.Type;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cuBLASLt binding end to end (Java plan → JNI → descriptors, heuristic, cache → the library)
 * against native/fakes/fake_cublaslt.c, a CPU stand-in with cuBLASLt's C API that computes what
 * cuBLASLt documents in column-major terms. The expected values here are computed in d2v's
 * row-major terms straight from {@link MatmulDesc}'s definition, so these tests check the
 * row-major → column-major mapping, every epilogue's operands, strides and alignment, and the
 * per-shape algorithm cache. They say nothing about cuBLASLt itself on a GPU.
 */
class CublasLtBindingTest {
    private static final Path FAKE = Path.of("..", "build", "native", "test", "libfake_cublaslt.so").toAbsolutePath();
    private static CublasLt lt;
    private final Random rnd = new Random(20261201);

    @BeforeAll
    static void loadTheStandIn() {
        if (!Files.isRegularFile(FAKE) || NativeLibraries.load(NativeLibraries.Library.GPU).loaded() == false) {
            String why = "no " + FAKE + " or libd2v_gpu (make native builds both)";
            if ("true".equals(System.getenv("CI"))) throw new AssertionError(why);
            Assumptions.abort(why);
        }
        assertEquals(null, CublasLt.probe(new String[] {FAKE.toString()}));
        lt = CublasLt.open(0);
    }

    @AfterAll
    static void backToTheDefaults() {
        if (lt != null) lt.close();
        CublasLt.probe(CublasLt.DEFAULT_NAMES.toArray(new String[0]));
    }

    // ---- host "device" memory ------------------------------------------------------------------

    /** A 256-byte aligned direct buffer of n elements of type t, starting {@code skew} bytes in. */
    private static ByteBuffer buffer(long n, Type t, int skew) {
        ByteBuffer raw = ByteBuffer.allocateDirect((int) (n * t.bytes()) + 512);
        ByteBuffer b = raw.alignedSlice(256);
        return b.position(skew).slice().order(ByteOrder.nativeOrder());
    }

    private static short bits(float x) {
        int b = Float.floatToIntBits(x);
        b += 0x7fff + ((b >> 16) & 1);
        return (short) (b >>> 16);
    }

    private static float roundBf16(float x) { return Float.intBitsToFloat((bits(x) & 0xffff) << 16); }

    private static void put(ByteBuffer b, Type t, int i, double v) {
        if (t == Type.F32) b.putFloat(4 * i, (float) v);
        else b.putShort(2 * i, bits((float) v));
    }

    private static double get(ByteBuffer b, Type t, int i) {
        return t == Type.F32 ? b.getFloat(4 * i) : Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
    }

    /** Random values exactly representable in t, written to a new buffer; returns them. */
    private double[] random(ByteBuffer b, Type t, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            float x = (float) rnd.nextGaussian();
            v[i] = t == Type.BF16 ? roundBf16(x) : x;
            put(b, t, i, v[i]);
        }
        return v;
    }

    private static void poison(ByteBuffer b, Type t, int n) {
        for (int i = 0; i < n; i++) put(b, t, i, Double.NaN);
    }

    private static long addr(ByteBuffer b) { return b == null ? 0 : NativeHandles.address(b); }

    // ---- the row-major definition ----------------------------------------------------------------

    static double geluTanh(double x) { return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))); }

    static double geluTanhGrad(double x) {
        double k = Math.sqrt(2 / Math.PI), t = Math.tanh(k * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    }

    /** What d2v means by the GEMM (MatmulDesc's comment), plus the epilogue's documented effect; fills c, bias, aux. */
    static void expected(MatmulDesc d, Epilogue e, double[] a, double[] b, double[] c, double alpha, double beta,
                         double[] bias, double[] aux) {
        int m = d.m(), n = d.n(), k = d.k();
        double[] cIn = c.clone();
        if (e == Epilogue.DGELU_BGRAD) java.util.Arrays.fill(bias, 0);
        for (int bt = 0; bt < d.batch(); bt++) {
            int bb = d.broadcastB() ? 0 : bt;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double x = d.transA() ? a[bt * m * k + p * m + i] : a[bt * m * k + i * k + p];
                        double y = d.transB() ? b[bb * k * n + j * k + p] : b[bb * k * n + p * n + j];
                        acc += x * y;
                    }
                    int at = bt * m * n + i * n + j;
                    double v = alpha * acc + (beta != 0 ? beta * cIn[at] : 0);
                    switch (e) {
                        case BIAS -> v += bias[j];
                        case GELU_AUX_BIAS -> {
                            v += bias[j];
                            aux[at] = v;
                            v = geluTanh(v);
                        }
                        case DGELU -> v *= geluTanhGrad(aux[at]);
                        case DGELU_BGRAD -> {
                            v *= geluTanhGrad(aux[at]);
                            bias[j] += v;
                        }
                        default -> { }
                    }
                    c[at] = v;
                }
            }
            if (e == Epilogue.BGRADB) {
                for (int i = 0; i < m; i++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += d.transA() ? a[bt * m * k + p * m + i] : a[bt * m * k + i * k + p];
                    bias[i] = s;
                }
            }
        }
    }

    /** Runs g through the binding on fresh random inputs (outputs poisoned) and compares with {@link #expected}. */
    private void check(Gemm g, double alpha, double beta, int skew) {
        MatmulDesc d = g.desc();
        Type in = g.inputs(), out = g.output();
        int na = d.batch() * d.m() * d.k(), nb = (d.broadcastB() ? 1 : d.batch()) * d.k() * d.n(), nc = d.batch() * d.m() * d.n();
        ByteBuffer a = buffer(na, in, skew), b = buffer(nb, in, 0), c = buffer(nc, out, 0);
        double[] av = random(a, in, na), bv = random(b, in, nb);
        double[] cv = beta != 0 ? random(c, out, nc) : new double[nc];
        if (beta == 0) poison(c, out, nc);
        int nBias = (int) g.biasLength();
        // d2v's biases (and bias gradients) are fp32 parameters whatever C's type
        ByteBuffer bias = nBias > 0 ? buffer(nBias, Type.F32, 0) : null;
        double[] biasV = new double[nBias];
        if (bias != null) {
            if (g.epilogue().writesBias()) poison(bias, Type.F32, nBias);
            else biasV = random(bias, Type.F32, nBias);
        }
        ByteBuffer aux = g.epilogue().usesAux() ? buffer(nc, out, 0) : null;
        double[] auxV = new double[nc];
        if (aux != null) {
            if (g.epilogue() == Epilogue.GELU_AUX_BIAS) poison(aux, out, nc);
            else auxV = random(aux, out, nc);
        }
        lt.matmul(g, 0, addr(a), addr(b), addr(c), (float) alpha, (float) beta, addr(bias), addr(aux));
        expected(d, g.epilogue(), av, bv, cv, alpha, beta, biasV, auxV);
        double tol = out == Type.F32 ? 1e-6 : 1.0 / 128;
        compare("C", c, out, cv, tol, g);
        if (g.epilogue() == Epilogue.GELU_AUX_BIAS) compare("aux", aux, out, auxV, tol, g);
        if (g.epilogue().writesBias()) compare("bias", bias, Type.F32, biasV, tol, g);
    }

    private static void compare(String what, ByteBuffer got, Type t, double[] want, double tol, Gemm g) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double x = get(got, t, i);
            assertTrue(!Double.isNaN(x), what + "[" + i + "] not written (NaN) for " + g);
            worst = Math.max(worst, Math.abs(x - want[i]) / Math.max(1, Math.abs(want[i])));
        }
        assertTrue(worst <= tol, what + " off by " + worst + " (tolerance " + tol + ") for " + g);
    }

    // ---- cases ---------------------------------------------------------------------------------

    @Test
    void everyTransposeCombinationMatchesTheRowMajorDefinition() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                MatmulDesc d = MatmulDesc.of(5, 7, 3).withTransA(ta).withTransB(tb);
                check(Gemm.of(d, Type.F32, Epilogue.NONE), 1, 0, 0);
                check(Gemm.of(d, Type.F32, Epilogue.NONE), -0.5, 1.5, 0); // accumulate into C
            }
        }
    }

    @Test
    void stridedBatchesAndABroadcastWeight() {
        MatmulDesc d = new MatmulDesc(3, 4, 6, 5, false, true, false, MatmulDesc.Activation.NONE);
        check(Gemm.of(d, Type.F32, Epilogue.NONE), 0.5, 2, 0);
        check(Gemm.of(d.withBatch(3, true), Type.F32, Epilogue.NONE), 1, 0, 0);
        check(Gemm.of(d.withBatch(2, true).withTransA(true).withTransB(false), Type.F32, Epilogue.NONE), 1, 0, 0);
    }

    @Test
    void theForwardEpiloguesBiasAndGeluWithItsInput() {
        check(Gemm.of(MatmulDesc.of(9, 11, 4), Type.F32, Epilogue.BIAS), 1, 0, 0);
        MatmulDesc gelu = MatmulDesc.of(3, 16, 5).withTransB(true).withActivation(MatmulDesc.Activation.GELU);
        check(Gemm.of(gelu, Type.F32, Epilogue.GELU_AUX_BIAS), 1, 0, 0);
        check(Gemm.of(gelu.withBatch(2, true), Type.F32, Epilogue.GELU_AUX_BIAS), 1, 0, 0);
    }

    @Test
    void theBackwardEpiloguesDgeluAndTheBiasGradients() {
        check(Gemm.of(MatmulDesc.of(6, 8, 5), Type.F32, Epilogue.DGELU), 1, 0, 0);
        check(Gemm.of(MatmulDesc.of(7, 24, 3), Type.F32, Epilogue.DGELU_BGRAD), 1, 0, 0);
        // dW = dyᵀ·x with the bias gradient Σ_rows dy (m = out, n = in, k = rows; A = dy stored [rows, out]).
        check(Gemm.of(MatmulDesc.of(6, 5, 7).withTransA(true), Type.F32, Epilogue.BGRADB), 1, 0, 0);
    }

    @Test
    void bf16InputsWithFp32AndBf16Outputs() {
        MatmulDesc d = MatmulDesc.of(13, 16, 9).withTransB(true);
        check(new Gemm(d, Type.BF16, Type.F32, Epilogue.NONE, false), 1, 0, 0);
        check(new Gemm(d, Type.BF16, Type.F32, Epilogue.BIAS, false), 1, 1, 0);
        check(Gemm.of(d, Type.BF16, Epilogue.BIAS), 1, 0, 0);
        check(Gemm.of(d.withActivation(MatmulDesc.Activation.GELU), Type.BF16, Epilogue.GELU_AUX_BIAS), 1, 0, 0);
    }

    @Test
    void oneShapeKeepsOneAlgorithmAndTheAlignmentItWasChosenFor() {
        try (CublasLt h = CublasLt.open(0)) {
            Gemm g = Gemm.of(MatmulDesc.of(4, 4, 4), Type.F32, Epilogue.NONE);
            ByteBuffer a = buffer(16, Type.F32, 0), b = buffer(16, Type.F32, 0), c = buffer(16, Type.F32, 0);
            random(a, Type.F32, 16);
            random(b, Type.F32, 16);
            h.matmul(g, 0, addr(a), addr(b), addr(c), 1, 0, 0, 0);
            long[] first = h.algorithm(g, addr(a), addr(b), addr(c));
            h.matmul(g, 0, addr(a), addr(b), addr(c), 1, 0, 0, 0);
            assertEquals(1, h.plans(), "the second call of one shape reuses its plan");
            assertArrayEquals(first, h.algorithm(g, addr(a), addr(b), addr(c)), "and its algorithm");
            // The stand-in records the alignments and reduction schemes it was asked for in the algorithm.
            assertEquals(256, first[2]);
            assertEquals(6, first[6], "split-K only through the workspace (COMPUTE_TYPE | OUTPUT_TYPE), never in place");

            ByteBuffer skewed = buffer(16, Type.F32, 4);
            random(skewed, Type.F32, 16);
            h.matmul(g, 0, addr(skewed), addr(b), addr(c), 1, 0, 0, 0);
            assertEquals(2, h.plans(), "a less aligned A is a new plan");
            long[] second = h.algorithm(g, addr(skewed), addr(b), addr(c));
            assertEquals(4, second[3], "d2v's A is cuBLASLt's B: 4-byte aligned");
            h.matmul(Gemm.of(MatmulDesc.of(4, 8, 4), Type.F32, Epilogue.NONE), 0, addr(a), addr(b), addr(c), 1, 0, 0, 0);
            assertEquals(3, h.plans(), "a new shape is a new plan");
        }
    }

    @Test
    void shapesCublasLtCannotTakeAreRefusedBeforeAnyCall() {
        IllegalArgumentException aux = assertThrows(IllegalArgumentException.class, () ->
                Gemm.of(MatmulDesc.of(4, 7, 4).withActivation(MatmulDesc.Activation.GELU), Type.F32, Epilogue.GELU_AUX_BIAS));
        assertTrue(aux.getMessage().contains("n divisible by 8, got n = 7"), aux.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Gemm.of(MatmulDesc.of(4, 8, 4).withBatch(2, false), Type.F32, Epilogue.BGRADB));
        assertThrows(IllegalArgumentException.class, () -> new Gemm(MatmulDesc.of(4, 8, 4), Type.F32, Type.BF16, Epilogue.NONE, false));
        assertThrows(IllegalArgumentException.class, () -> new Gemm(MatmulDesc.of(4, 8, 4), Type.BF16, Type.BF16, Epilogue.NONE, true));
        IllegalArgumentException act = assertThrows(IllegalArgumentException.class, () ->
                Gemm.of(MatmulDesc.of(4, 8, 4).withActivation(MatmulDesc.Activation.GELU), Type.F32, Epilogue.BIAS));
        assertTrue(act.getMessage().contains("GELU_AUX_BIAS"), act.getMessage());
        assertTrue(CublasLt.unsupported(MatmulDesc.of(4, 8, 4), Type.BF16, Type.F32, Epilogue.DGELU, false) == null);
        Gemm bias = Gemm.of(MatmulDesc.of(4, 8, 4), Type.F32, Epilogue.BIAS);
        ByteBuffer x = buffer(64, Type.F32, 0);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> lt.matmul(bias, 0, addr(x), addr(x), addr(x), 1, 0, 0, 0));
        assertTrue(missing.getMessage().contains("needs bias"), missing.getMessage());
    }

    @Test
    void aLibraryErrorComesBackWithCublasStatusName() {
        Gemm g = Gemm.of(MatmulDesc.of(4, 8, 4), Type.F32, Epilogue.NONE);
        ByteBuffer x = buffer(64, Type.F32, 0);
        long[] bad = Plan.of(g, addr(x), addr(x), addr(x)).key().clone();
        bad[Plan.LDA] = 1; // below the matrix's rows: cuBLASLt refuses the layout
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CublasLt.nativeMatmul(lt.handle(), bad, addr(x), addr(x), addr(x), addr(x), 1, 0, 0, 0, 0));
        assertEquals("cublasLt: cublasLtMatrixLayoutCreate(A) failed: CUBLAS_STATUS_INVALID_VALUE (7)", e.getMessage());
    }

    @Test
    void aWorkspaceNeedsTheCudaDriverAndSaysSoWithoutIt() {
        Assumptions.assumeFalse(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1")), "a CUDA driver is installed here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CublasLt.open(1 << 20));
        assertTrue(e.getMessage().startsWith("cublasLt: no CUDA driver for the workspace: libcuda.so.1: cannot open shared object file"),
                e.getMessage());
    }

    @Test
    void describeAndCloseAndUseAfterClose() {
        assertTrue(CublasLt.describe().startsWith("cuBLASLt: loaded " + FAKE + " (version 990000)"), CublasLt.describe());
        CublasLt h = CublasLt.open(0);
        h.close();
        h.close();
        Gemm g = Gemm.of(MatmulDesc.of(2, 2, 2), Type.F32, Epilogue.NONE);
        assertThrows(IllegalStateException.class, () -> h.matmul(g, 0, 8, 8, 8, 1, 0, 0, 0));
    }
}
