package org.d2v.backend.kernel;

/**
 * A faster way to run one op on some devices (a CUDA-only kernel of kernels/*.cu, a cuBLASLt
 * GEMM), beside the portable kernels that serve the op everywhere. {@link FastVariants} decides
 * when it runs: only where {@link #unavailable()} is null (the device can run it at all), for
 * calls where {@link #inapplicable} is null (dtype, shape, alignment preconditions), and only once
 * its self-check against the portable twin has passed on this device.
 *
 * <p>One instance per device: it may hold device memory (scratch) or a library handle, released
 * by {@link #close()}.
 *
 * @param <C> the op's call (the record class names the op)
 */
public abstract class FastVariant<C extends FastCall> implements AutoCloseable {
    /** How closely a variant must agree with its portable twin in the self-check. */
    public enum Precision {
        /**
         * fp32 storage, fp32 arithmetic: 1e-5 relative, norm-wise (the project's fp32 bound against
         * the float64 reference; two fp32 sums of the same terms in different orders stay far inside it).
         */
        F32(1e-5),
        /**
         * bf16 storage (the launch's activations BF16; statistics, biases and parameter gradients
         * F32). The project's rule for bf16 kernels is an error at most twice that of the same math
         * done naively in bf16; at run time there is no float64 reference, so the self-check measures
         * errors against the <em>fp32 twin</em>: the portable kernels in their f32 flavour on the very
         * same (bf16-valued) inputs, accurate to about 1e-6. Each output's norm-wise relative error
         * must be at most twice the larger of two stand-ins for the naive bf16 error, both computed
         * on the device's own data: the bf16 twin's error (the portable bf16-flavour kernels, held in
         * CI to the 2×-naive rule against float64) and the error of storing the exact result in bf16
         * (the least any bf16 result can have: the naive error of a primitive op). Outputs kept in
         * fp32 may also be off by up to {@link #tolerance} (1e-5, the fp32 bound) whatever the twin's
         * luck. Stricter than 2× naive where the naive decomposition rounds more than once.
         */
        BF16(1e-5);

        public final double tolerance;

        Precision(double tolerance) { this.tolerance = tolerance; }
    }

    private final String name;
    private final Class<C> op;
    private final String twin;
    private final Precision precision;

    /**
     * @param name      unique among the variants: the kernel (e.g. "norm_vec/layer_norm_forward_vec_f32") or library path
     * @param op        the op's call record
     * @param twin      the portable kernels it replaces, for {@code d2v info} and the logs
     * @param precision the self-check's tolerance
     */
    protected FastVariant(String name, Class<C> op, String twin, Precision precision) {
        this.name = name;
        this.op = op;
        this.twin = twin;
        this.precision = precision;
    }

    public final String name() { return name; }

    public final Class<C> op() { return op; }

    public final String twin() { return twin; }

    public final Precision precision() { return precision; }

    /** Null when this device can run the variant at all (capability, library present), else why not. Asked once. */
    public abstract String unavailable();

    /** Null when {@code call} meets the variant's preconditions, else why not (then the next variant or the portable kernels run). */
    public abstract String inapplicable(C call);

    /** Queues the call (already validated by KernelOps, and {@link #inapplicable} null for it). */
    public abstract void run(C call);

    /** Releases what the variant holds on the device. */
    @Override public void close() {}

    @Override public String toString() { return name + " (" + FastCall.opName(op) + ", for " + twin + ")"; }
}
