package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
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
 * Base of every reference-vs-kernel test: one kernel device per class (compiled kernels are
 * reused), the float64 reference beside it, and paired tensors holding the same values on both.
 * A subclass names the backend ("opencl", "cuda") and the kernel shape ({@link #kernelShape()}:
 * the device's own choice, or CPU- or GPU-shaped forced, so that PoCL runs both variant sets);
 * without that device the tests skip with the probe's reason, except in CI (CI=true) where a
 * missing device fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class KernelTestBase {
    /** Norm-wise relative error allowed for F32 kernels against the float64 reference. */
    protected static final double TOL = 1e-5;

    protected Device dev;
    protected Device ref;
    protected Random rnd;
    protected long seed;
    private Scope scope;
    /** Largest relative error seen per op family, printed when the class finishes. */
    private final Map<String, Double> worst = new TreeMap<>();

    /** "opencl", "cuda", ... */
    protected abstract String backendName();

    /** The kernel variants the device runs: AUTO (its capabilities choose), or CPU/GPU forced. */
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.AUTO; }

    /**
     * Opens the backend's default device with the given kernel shape forced (AUTO: as chosen by
     * its capabilities, fast variants included), or skips (fails in CI) with the probe's reason. A
     * forced shape must reach every kernel family, or the test would pass on the wrong kernels, and
     * turns the fast variants off.
     */
    public static Device openOrSkip(String name, KernelVariants.Shape shape) {
        Device d = openOrSkip(name);
        if (shape == KernelVariants.Shape.AUTO) return d;
        try {
            KernelOps ops = (KernelOps) d.ops();
            ops.useShape(shape);
            boolean reached = shape == KernelVariants.Shape.GPU ? ops.variants().allTiled() : ops.variants().noneTiled();
            if (!reached) fail("kernel shape " + shape + " did not reach every kernel family: " + ops.variants());
            // A forced shape tests the portable kernels of that shape: no fast variant (a CPU BLAS on
            // PoCL, say) may take their calls. AUTO keeps them: what a user's device runs.
            ops.fast().setEnabled(false);
            return d;
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
    }

    /** Opens the backend's default device, or skips (fails in CI) with the probe's reason. */
    public static Device openOrSkip(String name) {
        Backend b = Backends.find(name);
        Backend.Probe p = b.probe();
        if (!p.available()) {
            if ("true".equals(System.getenv("CI"))) fail("backend " + name + " must run in CI but is unavailable: " + p.detail());
            Assumptions.abort("backend " + name + " unavailable: " + p.detail());
        }
        return b.open();
    }

    @BeforeAll
    void openDevices() {
        dev = openOrSkip(backendName(), kernelShape());
        ref = new ReferenceDevice(DType.F64);
    }

    @AfterAll
    void closeDevices() {
        StringBuilder s = new StringBuilder("largest relative errors on " + backendName() + " ("
                + (dev != null && dev.ops() instanceof KernelOps ko ? ko.variants() : kernelShape()) + "):");
        worst.forEach((k, v) -> s.append(String.format("%n  %-24s %.3e", k, v)));
        System.out.println(s);
        try {
            if (dev != null && dev.ops() instanceof KernelOps ko) assertShapeKept(ko.runtime().launchChecks().launched());
        } finally {
            if (dev != null) dev.close();
            if (ref != null) ref.close();
        }
    }

    /** With a forced shape, not one kernel of the other shape ran: the class tested what its name says. */
    private void assertShapeKept(Set<String> launched) {
        System.out.println("kernels launched (" + launched.size() + "): " + launched);
        if (kernelShape() == KernelVariants.Shape.AUTO) return;
        Set<String> anyFlavour = new java.util.TreeSet<>();
        for (String k : launched) anyFlavour.add(k.contains("@") ? k.substring(0, k.indexOf('@')) : k); // gemm/gemm@bf16 is gemm/gemm
        for (KernelVariants.Tiled t : KernelVariants.Tiled.values()) {
            for (String other : kernelShape() == KernelVariants.Shape.GPU ? t.cpuKernels : t.gpuKernels) {
                assertFalse(anyFlavour.contains(other), other + " ran although the " + kernelShape() + " shape was forced");
            }
        }
    }

    @BeforeEach
    void openScope() {
        seed = System.nanoTime();
        rnd = new Random(seed);
        scope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    // ---- paired tensors -------------------------------------------------------------------------

    /** The same values on the kernel device (F32) and on the reference (F64). */
    protected record Pair(Tensor k, Tensor r) {}

    /** n values from N(0, scale²), rounded to float so both devices see identical inputs. */
    protected double[] randn(int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return v;
    }

    protected double[] randn(int n) { return randn(n, 1.0); }

    protected Pair input(double[] values, int... dims) {
        return new Pair(Tensor.of(dev, DType.F32, Shape.of(dims), values), Tensor.of(ref, DType.F64, Shape.of(dims), values));
    }

    protected Pair randnInput(int... dims) { return input(randn((int) Shape.of(dims).numel()), dims); }

    protected Pair ints(int[] values, int... dims) {
        return new Pair(Tensor.ofInts(dev, Shape.of(dims), values), Tensor.ofInts(ref, Shape.of(dims), values));
    }

    /** An output: NaN on the kernel device so that unwritten elements show, zeros on the reference. */
    protected Pair output(int... dims) {
        Tensor k = Tensor.empty(dev, DType.F32, Shape.of(dims));
        dev.ops().fill(k, Double.NaN);
        return new Pair(k, Tensor.zeros(ref, DType.F64, dims));
    }

    // ---- comparisons -----------------------------------------------------------------------------

    /** Norm-wise relative error ‖k − r‖ / ‖r‖ (absolute when r is zero); NaN anywhere is infinite error. */
    protected static double relError(double[] k, double[] r) {
        double num = 0, den = 0;
        for (int i = 0; i < k.length; i++) {
            if (Double.isNaN(k[i]) || Double.isInfinite(k[i])) return Double.POSITIVE_INFINITY;
            num += (k[i] - r[i]) * (k[i] - r[i]);
            den += r[i] * r[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Records an error measured outside {@link #assertClose} for the end-of-class summary. */
    protected void noteError(String family, double e) { worst.merge(family, e, Math::max); }

    protected void assertClose(String family, Pair p) { assertClose(family, p, TOL); }

    protected void assertClose(String family, Pair p, double tol) {
        double[] k = p.k().toDoubles(), r = p.r().toDoubles();
        assertEquals(r.length, k.length, family + ": element count");
        double e = relError(k, r);
        worst.merge(family, e, Math::max);
        if (!(e <= tol)) {
            int bad = 0;
            for (int i = 0; i < k.length; i++) {
                if (!(Math.abs(k[i] - r[i]) <= tol * Math.max(1, Math.abs(r[i])))) { bad = i; break; }
            }
            fail(String.format("%s on %s (" + kernelShape() + " shape): relative error %.3e > %.1e (seed %d); e.g. [%d] kernel %s reference %s",
                    family, backendName(), e, tol, seed, bad, k[bad], r[bad]));
        }
    }

    protected static void assertBitsEqual(String what, double[] k, double[] r) {
        for (int i = 0; i < k.length; i++) {
            assertTrue(Float.floatToRawIntBits((float) k[i]) == Float.floatToRawIntBits((float) r[i]),
                    what + ": element " + i + " kernel " + k[i] + " reference " + r[i]);
        }
    }
}
