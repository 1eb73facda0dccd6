package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.kernel.FastVariants.State;
import org.d2v.backend.kernel.FastVariants.Status;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The bf16 self-check ({@link FastVariant.Precision#BF16}) on PoCL: a bf16 variant is measured
 * against the fp32 twin and may be off by at most twice the larger of the bf16 twin's error and
 * bf16 storage's. Test-only bf16 variants of add built from the portable kernels: the right one
 * passes and serves bf16 calls only; one 4 bf16 ulps high (2^-7 relative, inside a flat 1e-2) is
 * disabled. And the bound itself on made-up outputs.
 */
class Bf16SelfCheckTest {

    /** A bf16 add from the portable kernels; {@code scale} ≠ 1 multiplies the sum (a wrong variant). */
    private static FastVariant<FastCall.Add> add(KernelRuntime rt, String name, float scale) {
        return new FastVariant<>(name, FastCall.Add.class, "elementwise.bf16/add", FastVariant.Precision.BF16) {
            @Override public String unavailable() { return null; }
            @Override public String inapplicable(FastCall.Add c) { return c.a().dtype() == DType.BF16 ? null : "bf16 only"; }
            @Override public void run(FastCall.Add c) {
                int n = (int) c.a().numel();
                long[] global = {(n + 255L) / 256 * 256}, local = {256};
                rt.launch("elementwise", "add", global, local, n, c.a(), c.b(), c.out());
                if (scale != 1f) rt.launch("elementwise", "axpby", global, local, n, 0f, c.out(), scale, c.out());
            }
        };
    }

    @Test
    void aBf16VariantFourUlpsOffIsDisabledTheRightOneServesBf16CallsOnly() {
        try (Device d = KernelTestBase.openOrSkip("opencl"); Scope s = Scope.open()) {
            KernelOps ops = (KernelOps) d.ops();
            FastVariants fast = ops.fast();
            fast.register(add(ops.runtime(), "test/bf16-add-right", 1f));
            fast.register(add(ops.runtime(), "test/bf16-add-4-ulps-high", 1f + 1f / 128));

            Random rnd = new Random(11);
            double[] a = new double[700], b = new double[700];
            for (int i = 0; i < a.length; i++) {
                a[i] = rnd.nextGaussian();
                b[i] = rnd.nextGaussian();
            }
            Tensor ta = Tensor.of(d, DType.BF16, Shape.of(700), a), tb = Tensor.of(d, DType.BF16, Shape.of(700), b);
            Tensor out = Tensor.empty(d, DType.BF16, Shape.of(700));
            d.ops().add(ta, tb, out);
            double[] got = out.toDoubles();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Bf16.round(Bf16.round(a[i]) + Bf16.round(b[i])), got[i], 0.0, "element " + i);
            }

            Status wrong = fast.status("test/bf16-add-4-ulps-high");
            assertEquals(State.DISABLED, wrong.state(), wrong.describe());
            assertTrue(wrong.reason().matches("case n 1003: output 1 of 1: relative error (\\S+) against the fp32 twin > (\\S+) = 2 x max"
                    + "\\(bf16 twin's \\S+, bf16 storage's \\S+\\) .*"), wrong.reason());
            double err = Double.parseDouble(wrong.reason().replaceAll(".*relative error (\\S+) against.*", "$1"));
            double bound = Double.parseDouble(wrong.reason().replaceAll(".* > (\\S+) = 2 x.*", "$1"));
            assertTrue(err > 5e-3 && err < 1e-2, "2^-7 relative: " + wrong.reason());
            assertTrue(bound > 2e-3 && bound < 5e-3, "twice a bf16 rounding: " + wrong.reason());
            Status right = fast.status("test/bf16-add-right");
            assertEquals(State.ACTIVE, right.state(), right.describe());
            assertEquals(2, right.cases(), "the bf16 add cases: n 1003 and 517 at offset 1");

            // an fp32 add is not the bf16 variant's: the portable kernel runs it
            long before = d.counters().launches();
            Tensor fa = Tensor.of(d, DType.F32, Shape.of(5), new double[5]), fsum = Tensor.empty(d, DType.F32, Shape.of(5));
            d.ops().add(fa, fa, fsum);
            assertEquals(1, d.counters().launches() - before, "one portable add, no axpby: the fp32 call never reached a bf16 variant");
        }
    }

    @Test
    void theBoundIsTwiceTheLargerOfTheTwinsAndStoragesError() {
        try (ReferenceDevice ref = new ReferenceDevice(DType.F64); Scope s = Scope.open()) {
            Random rnd = new Random(3);
            int n = 2000;
            double[] x = new double[n], t = new double[n], within = new double[n], beyond = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextGaussian();
                t[i] = Bf16.round(x[i]);
                within[i] = x[i] + 1.9 * (t[i] - x[i]);
                beyond[i] = x[i] + 2.1 * (t[i] - x[i]);
            }
            Tensor exact = Tensor.of(ref, DType.F64, Shape.of(n), x), twin = Tensor.of(ref, DType.F64, Shape.of(n), t);
            // F64 "outputs": no bf16 storage error, so the bound is 2 x the twin's (above the 1e-5 floor)
            assertNull(SelfCheck.bf16Disagreement(List.of(Tensor.of(ref, DType.F64, Shape.of(n), within)), List.of(twin), List.of(exact), 1e-5));
            String why = SelfCheck.bf16Disagreement(List.of(Tensor.of(ref, DType.F64, Shape.of(n), beyond)), List.of(twin), List.of(exact), 1e-5);
            assertTrue(why != null && why.startsWith("output 1 of 1: relative error"), String.valueOf(why));
            // a twin that happens to be exact leaves the floor: an fp32-sized difference passes, a bf16-sized one not
            double[] tiny = new double[n];
            for (int i = 0; i < n; i++) tiny[i] = x[i] * (1 + 3e-6);
            assertNull(SelfCheck.bf16Disagreement(List.of(Tensor.of(ref, DType.F64, Shape.of(n), tiny)), List.of(exact), List.of(exact), 1e-5));
            assertTrue(SelfCheck.bf16Disagreement(List.of(twin), List.of(exact), List.of(exact), 1e-5) != null);
            // a BF16 output may be off by twice bf16 storage's error even where the twin is exact
            Tensor stored = Tensor.of(ref, DType.BF16, Shape.of(n), x);
            assertNull(SelfCheck.bf16Disagreement(List.of(stored), List.of(exact), List.of(exact), 1e-5));
        }
    }
}
