package org.d2v.backend.kernel;

import org.d2v.backend.Device;

/**
 * Fast variants of {@code add} for tests of the self-check on PoCL, from the test-only program
 * selfcheck_for_test.cl: one right, the others wrong in a way the check has to catch.
 */
final class TestVariants {
    private TestVariants() {}

    enum Kind {
        /** right: four elements per work-item, tail included */
        RIGHT("add4_for_test"),
        /** forgets the last n % 4 elements */
        WITHOUT_TAIL("add4_without_tail_for_test"),
        /** (a + b)·(1 + 1e-4) */
        SCALED("add4_scaled_for_test"),
        /** launches the right kernel with a Float where it takes an int: the launch check throws */
        THROWS("add4_for_test");

        final String kernel;

        Kind(String kernel) { this.kernel = kernel; }
    }

    /** A variant of {@code kind} on {@code device}, called {@code name}; {@link Add#runs} counts its runs. */
    static Add add(Device device, Kind kind, String name) { return new Add(((KernelOps) device.ops()).runtime(), kind, name); }

    static final class Add extends FastVariant<FastCall.Add> {
        private final KernelRuntime rt;
        private final Kind kind;
        int runs;

        Add(KernelRuntime rt, Kind kind, String name) {
            super(name, FastCall.Add.class, "elementwise/add", Precision.F32);
            this.rt = rt;
            this.kind = kind;
        }

        @Override public String unavailable() { return null; }

        @Override public String inapplicable(FastCall.Add c) { return null; }

        @Override
        public void run(FastCall.Add c) {
            runs++;
            int n = (int) c.a().numel();
            long items = (n + 3) / 4;
            Object count = kind == Kind.THROWS ? (Object) (float) n : (Object) n;
            rt.launch("selfcheck_for_test", kind.kernel, new long[] {(items + 63) / 64 * 64}, new long[] {64}, count, c.a(), c.b(), c.out());
        }
    }

    /** A variant whose preconditions no call meets (its check has no case to run). */
    static FastVariant<FastCall.Add> neverApplies(String name) {
        return new FastVariant<>(name, FastCall.Add.class, "elementwise/add", FastVariant.Precision.F32) {
            @Override public String unavailable() { return null; }
            @Override public String inapplicable(FastCall.Add c) { return "takes no call, for the test"; }
            @Override public void run(FastCall.Add c) { throw new AssertionError("never runs"); }
        };
    }
}
