package org.d2v.backend.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.d2v.backend.MatmulDesc;

/**
 * Which variant of each kernel runs, decided in this one place from the device's
 * {@link DeviceCapabilities} (never from the API's name).
 *
 * <p>Two shapes exist for the kernels that have a choice:
 * <ul>
 *   <li><b>GPU-shaped</b>: work-groups share tiles through local memory behind barriers: the tiled
 *       {@code gemm}, the group-per-row {@code layer_norm_forward}/{@code layer_norm_backward_input},
 *       {@code attention_forward}/{@code attention_backward_kv}/{@code attention_backward_q}, the
 *       local-memory trees of {@code conv_backward_weight}, {@code partial_sum} and
 *       {@code masked_regression}, and the work-item-per-element row movers and broadcasts
 *       ({@code gather_rows}, {@code scatter_rows}, {@code repeat_rows}, {@code sum_repeats},
 *       {@code add_broadcast}, {@code broadcast_middle}). Right where many lanes run in lock step.</li>
 *   <li><b>CPU-shaped</b>: barrier-free twins in which one work-item keeps a register tile and walks
 *       contiguous memory ({@code gemm_dot}/{@code gemm_outer}, {@code layer_norm_*_rows},
 *       {@code attention_*_rows}, {@code conv_backward_weight_tiled}, {@code partial_sum_chunks},
 *       {@code masked_regression_chunks}, {@code *_rowwise}). On PoCL every value live across a
 *       barrier is spilled per work-item, and integer divisions per element are scalar, so these
 *       run 2–20× faster there.</li>
 * </ul>
 * A GPU or accelerator gets the GPU shape for every kernel whose local memory and work-group it
 * can hold (otherwise that kernel's CPU-shaped twin, which runs anywhere); a CPU the CPU shape.
 *
 * <p>The system property {@value #PROPERTY} ({@code auto}, {@code cpu} or {@code gpu}) forces a
 * shape, so that CI runs the GPU-shaped kernels on PoCL; {@link KernelOps#useShape} does the same
 * for one device. A forced GPU shape the device cannot hold is an error, not a silent fallback.
 */
public final class KernelVariants {
    /** The system property that forces a shape: auto (default), cpu or gpu. */
    public static final String PROPERTY = "d2v.kernelShape";

    public enum Shape {
        AUTO, CPU, GPU;

        /** The shape {@value #PROPERTY} asks for (AUTO when unset); a clear error for anything else. */
        public static Shape fromProperty() { return parse(System.getProperty(PROPERTY), "-D" + PROPERTY); }

        static Shape parse(String value, String where) {
            if (value == null || value.isBlank()) return AUTO;
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + "=" + value + ": expected auto, cpu or gpu");
            }
        }
    }

    /**
     * A kernel family with both shapes: its GPU-shaped kernels with what one work-group of them
     * declares (the LOCAL_ARRAYs of the largest and the work-group size; KernelVariantsTest checks
     * the bytes against ptxas), and their CPU-shaped twins. Names are "program/kernel".
     */
    public enum Tiled {
        GEMM(List.of("gemm/gemm"), List.of("gemm/gemm_dot", "gemm/gemm_outer"),
                2 * 16 * 64 * 4, 256),                                   // As, Bs: GEMM_K × GEMM_TILE floats each
        LAYER_NORM(List.of("norm/layer_norm_forward", "norm/layer_norm_backward_input"),
                List.of("norm/layer_norm_forward_rows", "norm/layer_norm_backward_input_rows"),
                256 * 4, 256),                                           // buf[NORM_LOCAL]
        ATTENTION(List.of("attention/attention_forward", "attention/attention_backward_kv", "attention/attention_backward_q"),
                List.of("attention/attention_forward_rows", "attention/attention_backward_kv_rows",
                        "attention/attention_backward_q_rows"),
                2 * 32 * 128 * 4 + 3 * 32 * 4, 32),                      // two ATT_TILE × ATT_DMAX tiles, three rows of ATT_TILE
        CONV_WEIGHT(List.of("conv/conv_backward_weight"), List.of("conv/conv_backward_weight_tiled"),
                256 * 4, 256),                                           // red[CONV_WG]
        /** Whole-tensor sums: a block tree per work-group against contiguous chunks per work-item. */
        REDUCTION(List.of("reduce/partial_sum", "loss/masked_regression"),
                List.of("reduce/partial_sum_chunks", "loss/masked_regression_chunks"),
                256 * 4, 256),                                           // buf[D2V_REDUCE_LOCAL], buf[LOSS_LOCAL]
        /**
         * Row movers and broadcasts: a work-item per element (coalesced on a GPU, at the price of
         * an integer division or two per element) against a work-item per row.
         */
        ROWWISE(List.of("tokens/gather_rows", "tokens/scatter_rows", "tokens/repeat_rows", "tokens/sum_repeats",
                        "elementwise/add_broadcast", "elementwise/broadcast_middle"),
                List.of("tokens/gather_rows_rowwise", "tokens/scatter_rows_rowwise", "tokens/repeat_rows_rowwise",
                        "tokens/sum_repeats_rowwise", "elementwise/add_broadcast_rowwise", "elementwise/broadcast_middle_rowwise"),
                0, 256);

        public final List<String> gpuKernels;
        public final List<String> cpuKernels;
        public final long localBytes;
        public final int workGroup;

        Tiled(List<String> gpuKernels, List<String> cpuKernels, long localBytes, int workGroup) {
            this.gpuKernels = gpuKernels;
            this.cpuKernels = cpuKernels;
            this.localBytes = localBytes;
            this.workGroup = workGroup;
        }

        boolean fits(DeviceCapabilities c) { return c.localMemoryBytes() >= localBytes && c.maxWorkGroupSize() >= workGroup; }
    }

    private final DeviceCapabilities capabilities;
    private final Shape requested;
    private final boolean[] tiled = new boolean[Tiled.values().length];

    private KernelVariants(DeviceCapabilities capabilities, Shape requested) {
        this.capabilities = capabilities;
        this.requested = requested;
        boolean gpuShaped = switch (requested) {
            case AUTO -> capabilities.kind() != DeviceCapabilities.Kind.CPU;
            case GPU -> true;
            case CPU -> false;
        };
        for (Tiled t : Tiled.values()) {
            if (requested == Shape.GPU && !t.fits(capabilities)) {
                throw new IllegalStateException(PROPERTY + "=gpu: " + String.join(", ", t.gpuKernels) + " need " + t.localBytes
                        + " bytes of local memory and work-groups of " + t.workGroup + "; the device has " + capabilities);
            }
            tiled[t.ordinal()] = gpuShaped && t.fits(capabilities);
        }
    }

    /** The variants for this device, with the shape {@value #PROPERTY} asks for. */
    public static KernelVariants of(DeviceCapabilities capabilities) { return of(capabilities, Shape.fromProperty()); }

    public static KernelVariants of(DeviceCapabilities capabilities, Shape shape) {
        return new KernelVariants(capabilities, shape);
    }

    public DeviceCapabilities capabilities() { return capabilities; }

    public Shape requested() { return requested; }

    /** Whether {@code family} runs its GPU-shaped (local-memory) kernels on this device. */
    public boolean tiled(Tiled family) { return tiled[family.ordinal()]; }

    /** True when every family runs GPU-shaped; false when every family runs CPU-shaped. */
    public boolean allTiled() {
        for (boolean t : tiled) if (!t) return false;
        return true;
    }

    public boolean noneTiled() {
        for (boolean t : tiled) if (t) return false;
        return true;
    }

    /**
     * The kernel of gemm.cl that runs d: the tiled {@code gemm} (GPU shape), otherwise a
     * register-blocked one (6–13× faster than the tiled one on PoCL at the tiny preset): dot
     * products when both operands are contiguous along k (A·Bᵀ, the forward of a linear layer),
     * outer products for the other layouts.
     */
    public String gemm(MatmulDesc d) {
        if (tiled(Tiled.GEMM)) return "gemm";
        return !d.transA() && d.transB() ? "gemm_dot" : "gemm_outer";
    }

    /** One line for logs and test output: the shape asked for, what each family got, and why. */
    public String describe() {
        List<String> gpu = new ArrayList<>(), cpu = new ArrayList<>();
        for (Tiled t : Tiled.values()) (tiled(t) ? gpu : cpu).add(t.name().toLowerCase(Locale.ROOT));
        return "kernel shape " + requested.name().toLowerCase(Locale.ROOT) + ": GPU-shaped " + gpu + ", CPU-shaped " + cpu
                + " on " + capabilities;
    }

    @Override public String toString() { return describe(); }
}
