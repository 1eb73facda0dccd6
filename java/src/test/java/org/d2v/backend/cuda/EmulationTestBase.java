package org.d2v.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.d2v.backend.Ops;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the tests that run the CUDA-only kernels in the host emulator ({@link TensorCoreEmulator})
 * against the float64 reference backend on fresh random inputs rounded to bf16 (so both see the
 * same values), outputs poisoned with NaN. Without g++ the tests skip, except in CI (CI=true),
 * where that fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EmulationTestBase {
    /** fp32 outputs of exact bf16 products accumulated in fp32. */
    static final double F32_TOL = 1e-5;
    /** Outputs stored in bf16, or computed through bf16 intermediates (P, dS in attention): a few bf16 ulps. */
    static final double BF16_TOL = 1e-2;

    ReferenceDevice ref;
    Ops refOps;
    Random rnd;
    long seed;
    private Scope scope;
    private final Map<String, Double> worst = new TreeMap<>();

    @BeforeAll
    void build() {
        if (TensorCoreEmulator.binary() == null) {
            if ("true".equals(System.getenv("CI"))) fail(TensorCoreEmulator.unavailable());
            Assumptions.abort(TensorCoreEmulator.unavailable());
        }
        ref = new ReferenceDevice(DType.F64);
        refOps = ref.ops();
    }

    @AfterAll
    void summary() {
        if (ref != null) ref.close();
        StringBuilder s = new StringBuilder("largest relative errors in the emulator (" + getClass().getSimpleName() + "):");
        worst.forEach((k, v) -> s.append(String.format("%n  %-32s %.3e", k, v)));
        System.out.println(s);
    }

    @BeforeEach
    void open() {
        seed = System.nanoTime();
        rnd = new Random(seed);
        scope = Scope.open();
    }

    @AfterEach
    void close() { scope.close(); }

    /** n values from N(0, 1) rounded to bf16. */
    double[] randBf16(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextGaussian();
        return TensorCoreEmulator.roundBf16(v);
    }

    /** n values from N(0, 1) rounded to float. */
    double[] randF32(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    Tensor refTensor(double[] values, int... dims) { return Tensor.of(ref, DType.F64, Shape.of(dims), values); }

    Tensor refInts(int[] values, int... dims) { return Tensor.ofInts(ref, Shape.of(dims), values); }

    Tensor refZeros(int... dims) { return Tensor.zeros(ref, DType.F64, dims); }

    /** ‖k − r‖ / ‖r‖; equal infinities (−∞ log-sum-exps of empty rows) count as equal, NaN anywhere is infinite. */
    static double relError(double[] k, double[] r) {
        double num = 0, den = 0;
        for (int i = 0; i < k.length; i++) {
            if (Double.isInfinite(r[i]) && k[i] == r[i]) continue;
            if (!Double.isFinite(k[i]) || !Double.isFinite(r[i])) return Double.POSITIVE_INFINITY;
            num += (k[i] - r[i]) * (k[i] - r[i]);
            den += r[i] * r[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    void assertClose(String what, double[] kernel, double[] reference, double tol) {
        assertEquals(reference.length, kernel.length, what + ": element count");
        double e = relError(kernel, reference);
        worst.merge(what.replaceAll(" \\(.*", ""), e, Math::max);
        if (!(e <= tol)) {
            int bad = 0;
            for (int i = 0; i < kernel.length; i++) {
                if (!(Math.abs(kernel[i] - reference[i]) <= tol * Math.max(1, Math.abs(reference[i])))) { bad = i; break; }
            }
            fail(String.format("%s: relative error %.3e > %.1e (seed %d); e.g. [%d] kernel %s reference %s",
                    what, e, tol, seed, bad, kernel[bad], reference[bad]));
        }
    }

    static void assertAllNaN(String what, double[] v) {
        for (int i = 0; i < v.length; i++) assertTrue(Double.isNaN(v[i]), what + ": element " + i + " is " + v[i] + ", expected NaN");
    }

    static int[] grid(int... g) { return g; }

    static int ceil(int a, int b) { return (a + b - 1) / b; }
}
