package org.d2v.data2vec;

import java.util.Locale;
import org.d2v.backend.Device;
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The mixed-precision policy of a model, decided in this one place (docs/precision.md): the dtype
 * of the master weights (and with them gradients, AdamW moments, the EMA teacher's masters) and
 * the dtype activations are stored in. Everything else follows from these two:
 * <ul>
 *   <li>activations, GEMM/attention/conv operands and results, decoder and teacher activations,
 *       and activation gradients are stored in {@link #activations()};</li>
 *   <li>GEMMs, convolutions and embeddings read a working copy of the weights in that dtype, which
 *       AdamW (student) and the EMA update (teacher) write in the same launch as the masters;</li>
 *   <li>statistics, reductions, losses, targets, biases, LayerNorm affine parameters and position
 *       tables stay in the masters' dtype, and every sum and accumulator runs in float.</li>
 * </ul>
 * {@link #FP32} is the model as it always was; {@link #BF16} keeps fp32 masters with bf16 storage.
 * Checkpoints hold the masters only, so a run can change precision when it resumes.
 */
public record Precision(DType master, DType activations) {
    public static final Precision FP32 = new Precision(DType.F32, DType.F32);
    public static final Precision BF16 = new Precision(DType.F32, DType.BF16);

    /**
     * What {@code auto} picks on a CPU OpenCL device (PoCL), measured side by side with StepBench
     * (docs/precision.md has the figures): bf16 is slower there (4-20% per step of the tiny presets
     * on a quiet machine, in both orders: the conversions cost more than the halved bytes save while
     * the activations fit in cache), so fp32, which also keeps earlier runs' numbers.
     * {@code d2v demo --precision auto} times both on the machine at hand instead.
     */
    static final Precision CPU_OPENCL_AUTO = FP32;

    public Precision {
        if (master != DType.F32 && master != DType.F64) throw new IllegalArgumentException("master weights are F32 or F64, not " + master);
        if (activations != master && activations != DType.BF16) {
            throw new IllegalArgumentException("activations are stored as the masters (" + master + ") or in BF16, not " + activations);
        }
    }

    /** Everything in {@code dtype} (F32, or F64 on the reference backend: the oracle). */
    public static Precision of(DType dtype) { return new Precision(dtype, dtype); }

    /** This policy with activations stored in {@code dtype}. */
    public Precision withActivations(DType dtype) { return new Precision(master, dtype); }

    /** True when activations are stored in BF16 over wider masters. */
    public boolean mixed() { return activations != master; }

    /** "fp32", "bf16" (fp32 masters), "f64": the name the CLI and the manifest use. */
    public String id() {
        if (activations == DType.BF16) return master == DType.F32 ? "bf16" : "bf16/" + master.name().toLowerCase(Locale.ROOT);
        return master == DType.F32 ? "fp32" : master.name().toLowerCase(Locale.ROOT);
    }

    @Override public String toString() { return id(); }

    /**
     * The precision {@code option} names for {@code device}: {@code fp32}, {@code bf16}, or
     * {@code auto} (bf16 on a GPU, {@link #CPU_OPENCL_AUTO} on a CPU OpenCL device, fp32 on the
     * reference backend, which emulates bf16 rounding and is only slower for it). A bf16 choice is
     * checked on the device first ({@link #check}). {@code where} names the option in errors.
     */
    public static Precision resolve(String option, Device device, String where) {
        Precision p = switch (option == null ? "" : option.trim().toLowerCase(Locale.ROOT)) {
            case "fp32", "f32" -> FP32;
            case "bf16" -> BF16;
            case "auto" -> auto(device);
            default -> throw new IllegalArgumentException(where + " " + option + ": expected fp32, bf16 or auto");
        };
        return p.check(device);
    }

    /** {@code auto} on {@code device}, see {@link #resolve}. */
    public static Precision auto(Device device) {
        if (!(device.ops() instanceof KernelOps k)) return FP32;
        return k.runtime().capabilities().kind() == DeviceCapabilities.Kind.CPU ? CPU_OPENCL_AUTO : BF16;
    }

    /**
     * This precision if {@code device} can run it: for bf16, a one-element BF16 tensor is filled
     * and cast up there (the bf16 flavour of the kernels must exist and run). Otherwise a clear
     * error naming the device and the precision.
     */
    public Precision check(Device device) {
        if (!mixed()) return this;
        try (Tensor h = Tensor.empty(device, activations, Shape.of(1)); Tensor f = Tensor.empty(device, master, Shape.of(1))) {
            device.ops().fill(h, 1.5);
            device.ops().cast(h, f, false);
            double v = f.item();
            if (v != 1.5) throw new IllegalStateException("a bf16 round trip gave " + v + " instead of 1.5");
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("precision " + id() + " is not available on " + device.name() + ": " + e.getMessage(), e);
        }
        return this;
    }
}
