package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.d2v.backend.Device;
import org.d2v.backend.kernel.FastVariants.State;
import org.d2v.backend.kernel.FastVariants.Status;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The run-time self-check on PoCL, with the test-only variants of {@link TestVariants}: a wrong
 * variant is found and disabled with a reason that names it, a right one stays active and runs, the
 * op's results are then the portable kernel's, and each (device, variant) is checked once per
 * process however many device objects open it. Variant names are unique per test, since the
 * outcomes live for the whole JVM.
 */
class FastVariantsTest {

    private static KernelOps ops(Device d) { return (KernelOps) d.ops(); }

    private static double[] randn(Random rnd, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    /** add(a, b) on n elements through whatever the device chooses; the values come back. */
    private static double[] add(Device d, double[] a, double[] b) {
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.of(d, DType.F32, Shape.of(a.length), a), tb = Tensor.of(d, DType.F32, Shape.of(b.length), b);
            Tensor out = Tensor.empty(d, DType.F32, Shape.of(a.length));
            d.ops().add(ta, tb, out);
            return out.toDoubles();
        }
    }

    @Test
    void wrongVariantsAreDisabledWithTheirReasonAndTheRightOneRuns() {
        try (Device d = KernelTestBase.openOrSkip("opencl")) {
            FastVariants fast = ops(d).fast();
            TestVariants.Add right = TestVariants.add(d, TestVariants.Kind.RIGHT, "test/add4-right");
            TestVariants.Add noTail = TestVariants.add(d, TestVariants.Kind.WITHOUT_TAIL, "test/add4-without-tail");
            TestVariants.Add scaled = TestVariants.add(d, TestVariants.Kind.SCALED, "test/add4-scaled");
            TestVariants.Add throwing = TestVariants.add(d, TestVariants.Kind.THROWS, "test/add4-throws");
            // registered later = preferred: the wrong ones are tried first
            fast.register(right);
            fast.register(noTail);
            fast.register(scaled);
            fast.register(throwing);
            for (String name : List.of("test/add4-right", "test/add4-without-tail", "test/add4-scaled", "test/add4-throws")) {
                assertEquals(State.UNTRIED, fast.status(name).state(), name);
            }

            Random rnd = new Random(7);
            double[] a = randn(rnd, 1001), b = randn(rnd, 1001);
            double[] viaFast = add(d, a, b);

            Status noTailStatus = fast.status("test/add4-without-tail");
            assertEquals(State.DISABLED, noTailStatus.state());
            assertTrue(noTailStatus.reason().startsWith("case n 1003: output 1 of 1: relative error Infinity"), noTailStatus.reason());
            Status scaledStatus = fast.status("test/add4-scaled");
            assertEquals(State.DISABLED, scaledStatus.state());
            assertTrue(scaledStatus.reason().matches("case n 1003: output 1 of 1: relative error 1\\.00e-04 > 1e-05 .*"), scaledStatus.reason());
            Status throwingStatus = fast.status("test/add4-throws");
            assertEquals(State.DISABLED, throwingStatus.state());
            assertTrue(throwingStatus.reason().contains("threw java.lang.IllegalArgumentException: kernel selfcheck_for_test/add4_for_test"),
                    throwingStatus.reason());
            Status rightStatus = fast.status("test/add4-right");
            assertEquals(State.ACTIVE, rightStatus.state(), rightStatus.toString());
            assertEquals(3, rightStatus.cases());

            // the right variant ran the call (after its three self-check cases), the wrong ones only their checks
            assertEquals(3 + 1, right.runs);
            assertEquals(1, noTail.runs, "stopped at its first failing case");
            assertEquals(1, scaled.runs);
            assertTrue(ops(d).runtime().launchChecks().launched().contains("selfcheck_for_test/add4_for_test"));

            // exact: the right variant adds in fp32 as the portable kernel does
            fast.setEnabled(false);
            assertArrayEquals(add(d, a, b), viaFast);
            fast.setEnabled(true);

            // a later call uses the active variant without checking again
            add(d, a, b);
            assertEquals(5, right.runs);
            for (String name : List.of("test/add4-right", "test/add4-without-tail", "test/add4-scaled", "test/add4-throws")) {
                assertEquals(1, fast.checksRun(name), name);
            }

            List<String> info = fast.describe();
            System.out.println(String.join("\n", info));
            assertTrue(info.stream().anyMatch(l -> l.contains("test/add4-scaled") && l.contains("disabled: case n 1003")), info.toString());
            assertTrue(info.stream().anyMatch(l -> l.contains("test/add4-right") && l.contains("active (self-check: 3 cases")), info.toString());
            for (Status s : fast.statuses()) {
                if (s.state() == State.ACTIVE || s.state() == State.DISABLED) {
                    System.out.printf("self-check of %-24s %-8s %6.2f ms%n", s.variant(), s.state(), s.nanos() / 1e6);
                }
            }
        }
    }

    @Test
    void afterAWrongVariantIsDisabledTheOpGivesExactlyThePortableResult() {
        try (Device d = KernelTestBase.openOrSkip("opencl")) {
            TestVariants.Add wrong = TestVariants.add(d, TestVariants.Kind.WITHOUT_TAIL, "test/add4-without-tail-alone");
            ops(d).fast().register(wrong);
            Random rnd = new Random(11);
            double[] a = randn(rnd, 203), b = randn(rnd, 203);
            double[] got = add(d, a, b);
            assertEquals(State.DISABLED, ops(d).fast().status(wrong.name()).state());
            assertEquals(1, wrong.runs, "only its self-check ran it");
            ops(d).fast().setEnabled(false);
            double[] portable = add(d, a, b);
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToRawIntBits((float) portable[i]), Float.floatToRawIntBits((float) got[i]), "element " + i);
                assertEquals((float) ((float) a[i] + (float) b[i]), (float) got[i], "element " + i);
            }
        }
    }

    @Test
    void eachDeviceAndVariantIsCheckedOncePerProcess() {
        String name = "test/add4-right-twice";
        try (Device first = KernelTestBase.openOrSkip("opencl")) {
            TestVariants.Add v1 = TestVariants.add(first, TestVariants.Kind.RIGHT, name);
            ops(first).fast().register(v1);
            add(first, new double[] {1, 2, 3}, new double[] {4, 5, 6});
            assertEquals(1, ops(first).fast().checksRun(name));
            assertEquals(3 + 1, v1.runs);
        }
        // a second device object on the same device: the outcome is known, the variant runs at once
        try (Device second = KernelTestBase.openOrSkip("opencl")) {
            TestVariants.Add v2 = TestVariants.add(second, TestVariants.Kind.RIGHT, name);
            ops(second).fast().register(v2);
            assertEquals(State.ACTIVE, ops(second).fast().status(name).state(), "known before any call");
            assertArrayEquals(new double[] {5, 7, 9}, add(second, new double[] {1, 2, 3}, new double[] {4, 5, 6}));
            assertEquals(1, v2.runs, "no second self-check");
            assertEquals(1, ops(second).fast().checksRun(name));
        }
    }

    @Test
    void aVariantNoCaseFitsIsDisabledNotTrustedUnchecked() {
        try (Device d = KernelTestBase.openOrSkip("opencl")) {
            ops(d).fast().register(TestVariants.neverApplies("test/never-applies"));
            ops(d).fast().selfCheckAll();
            Status s = ops(d).fast().status("test/never-applies");
            assertEquals(State.DISABLED, s.state());
            assertTrue(s.reason().startsWith("no self-check case meets its preconditions (n 8: takes no call, for the test)"), s.reason());
        }
    }

    @Test
    void offRunsThePortableKernelsOnlyAndTheBuiltInsSayWhyTheyAreUnavailable() {
        try (Device d = KernelTestBase.openOrSkip("opencl")) {
            TestVariants.Add v = TestVariants.add(d, TestVariants.Kind.RIGHT, "test/add4-off");
            ops(d).fast().register(v);
            ops(d).fast().setEnabled(false);
            assertArrayEquals(new double[] {3}, add(d, new double[] {1}, new double[] {2}));
            assertEquals(0, v.runs);
            assertEquals(State.UNTRIED, ops(d).fast().status("test/add4-off").state());
            assertFalse(ops(d).fast().enabled());
            // PoCL runs no CUDA-only programs: each built-in variant is listed with the reason
            Status vec = ops(d).fast().status("norm_vec/layer_norm_forward_vec_f32");
            assertEquals(State.UNAVAILABLE, vec.state());
            assertTrue(vec.reason().contains("CUDA-only"), vec.reason());
            assertThrows(IllegalArgumentException.class, () -> ops(d).fast().register(TestVariants.add(d, TestVariants.Kind.RIGHT, "test/add4-off")));
        }
    }

    /** The fp32 flavours refuse tensors of any other dtype, which the op set may take: another flavour's call. */
    @Test
    void theFp32FlavoursTakeOnlyF32Tensors() {
        try (Device d = KernelTestBase.openOrSkip("opencl"); Scope s = Scope.open()) {
            Tensor f = Tensor.empty(d, DType.F32, Shape.of(8)), i = Tensor.empty(d, DType.I32, Shape.of(8));
            assertEquals(null, VecVariants.notF32(f, null, f));
            assertEquals("a I32 tensor (this is the fp32 flavour)", VecVariants.notF32(f, i));
        }
    }
}
