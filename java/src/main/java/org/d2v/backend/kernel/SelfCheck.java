package org.d2v.backend.kernel;

import java.util.List;
import java.util.function.Consumer;
import org.d2v.backend.Device;
import org.d2v.tensor.Bf16;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * The run-time self-check of one fast variant on one device: every {@link SelfCheckCases} case of
 * its op that meets its preconditions runs twice on identical inputs, once through the variant and
 * once through the portable kernels, and each output must agree within the variant's
 * {@link FastVariant.Precision} (norm-wise relative error, NaN only where the twin has NaN). A
 * variant that disagrees, throws, or meets none of the cases fails, with a reason that names the
 * case and the output.
 */
final class SelfCheck {
    /** What a check found: passed or not, why not, how many cases ran and how long it took. */
    record Result(boolean passed, String reason, int cases, long nanos) {}

    /** Fixed, so that a failure repeats in the next process. */
    static final long SEED = 0x5e1fc4ecL;

    private SelfCheck() {}

    /**
     * Checks {@code variant} on {@code device}; {@code portable} runs a call on the portable
     * kernels (the twin), with every fast variant bypassed.
     */
    static <C extends FastCall> Result run(FastVariant<C> variant, Device device, Consumer<FastCall> portable) {
        if (variant.precision() == FastVariant.Precision.BF16) return runBf16(variant, device, portable);
        long start = System.nanoTime();
        int ran = 0;
        String lastSkip = null;
        for (SelfCheckCases.Case<C> c : SelfCheckCases.of(variant.op())) {
            try (SelfCheckInputs fastIn = new SelfCheckInputs(device, SEED); SelfCheckInputs twinIn = new SelfCheckInputs(device, SEED)) {
                C fastCall = c.make().apply(fastIn), twinCall = c.make().apply(twinIn);
                String skip = variant.inapplicable(fastCall);
                if (skip != null) {
                    lastSkip = c.name() + ": " + skip;
                    continue;
                }
                ran++;
                try {
                    variant.run(fastCall);
                } catch (RuntimeException | LinkageError e) {
                    return new Result(false, "case " + c.name() + " threw " + e, ran, System.nanoTime() - start);
                }
                portable.accept(twinCall);
                String why = disagreement(fastCall.outputs(), twinCall.outputs(), variant.precision().tolerance);
                if (why != null) return new Result(false, "case " + c.name() + ": " + why, ran, System.nanoTime() - start);
            } catch (RuntimeException e) {
                // the twin or the download failed: the check cannot vouch for the variant
                return new Result(false, "case " + c.name() + ": the check itself failed: " + e, ran, System.nanoTime() - start);
            }
        }
        if (ran == 0) return new Result(false, "no self-check case meets its preconditions (" + lastSkip + ")", 0, System.nanoTime() - start);
        return new Result(true, null, ran, System.nanoTime() - start);
    }

    /**
     * A bf16 variant ({@link FastVariant.Precision#BF16}): each of the op's bf16 cases runs three
     * times on the same values (every random value rounded to bf16 first): through the variant and
     * through the portable kernels in bf16 storage (the twin), and through the portable kernels with
     * the activations in F32 (the fp32 twin, the near-exact values the errors are measured against).
     */
    private static <C extends FastCall> Result runBf16(FastVariant<C> variant, Device device, Consumer<FastCall> portable) {
        long start = System.nanoTime();
        int ran = 0;
        String lastSkip = null;
        for (SelfCheckCases.Case<C> c : SelfCheckCases.bf16(variant.op())) {
            try (SelfCheckInputs fastIn = SelfCheckInputs.bf16(device, SEED, DType.BF16);
                 SelfCheckInputs twinIn = SelfCheckInputs.bf16(device, SEED, DType.BF16);
                 SelfCheckInputs exactIn = SelfCheckInputs.bf16(device, SEED, DType.F32)) {
                C fastCall = c.make().apply(fastIn), twinCall = c.make().apply(twinIn), exactCall = c.make().apply(exactIn);
                String skip = variant.inapplicable(fastCall);
                if (skip != null) {
                    lastSkip = c.name() + ": " + skip;
                    continue;
                }
                ran++;
                try {
                    variant.run(fastCall);
                } catch (RuntimeException | LinkageError e) {
                    return new Result(false, "case " + c.name() + " threw " + e, ran, System.nanoTime() - start);
                }
                portable.accept(twinCall);
                portable.accept(exactCall);
                String why = bf16Disagreement(fastCall.outputs(), twinCall.outputs(), exactCall.outputs(), variant.precision().tolerance);
                if (why != null) return new Result(false, "case " + c.name() + ": " + why, ran, System.nanoTime() - start);
            } catch (RuntimeException e) {
                return new Result(false, "case " + c.name() + ": the check itself failed: " + e, ran, System.nanoTime() - start);
            }
        }
        if (ran == 0) return new Result(false, "no bf16 self-check case meets its preconditions (" + lastSkip + ")", 0, System.nanoTime() - start);
        return new Result(true, null, ran, System.nanoTime() - start);
    }

    /**
     * Null when every output of the bf16 variant is within the bound of {@link FastVariant.Precision#BF16}
     * (against the fp32 twin {@code exact}: at most twice the larger of the bf16 twin's error and the
     * error of storing the exact values in the output's dtype, or {@code floor}), else which output is
     * not and by how much.
     */
    static String bf16Disagreement(List<Tensor> fast, List<Tensor> twin, List<Tensor> exact, double floor) {
        for (int i = 0; i < fast.size(); i++) {
            if (fast.get(i) == null) continue;
            double[] f = fast.get(i).toDoubles(), t = twin.get(i).toDoubles(), x = exact.get(i).toDoubles();
            double ef = relativeError(f, x), et = relativeError(t, x);
            double es = fast.get(i).dtype() == DType.BF16 ? relativeError(roundedBf16(x), x) : 0;
            double bound = Math.max(2 * Math.max(et, es), floor);
            if (!(ef <= bound)) {
                int worst = worstElement(f, x);
                return String.format("output %d of %d: relative error %.2e against the fp32 twin > %.2e = 2 x max(bf16 twin's %.2e, "
                                + "bf16 storage's %.2e) (element %d: %s vs %s)",
                        i + 1, fast.size(), ef, bound, et, es, worst, f[worst], x[worst]);
            }
        }
        return null;
    }

    /** The values as a bf16 tensor stores them. */
    private static double[] roundedBf16(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Bf16.round(v[i]);
        return r;
    }

    /** Null when every output agrees, else which one does not and by how much. */
    static String disagreement(List<Tensor> fast, List<Tensor> twin, double tolerance) {
        for (int i = 0; i < fast.size(); i++) {
            if (fast.get(i) == null) continue;
            double[] f = fast.get(i).toDoubles(), t = twin.get(i).toDoubles();
            double e = relativeError(f, t);
            if (!(e <= tolerance)) {
                int worst = worstElement(f, t);
                return String.format("output %d of %d: relative error %.2e > %.0e against the portable kernels (element %d: %s vs %s)",
                        i + 1, fast.size(), e, tolerance, worst, f[worst], t[worst]);
            }
        }
        return null;
    }

    /** ‖f − t‖ / ‖t‖ (‖f − t‖ where t is all zeros); NaN or an infinity where t has none counts as infinitely wrong. */
    static double relativeError(double[] f, double[] t) {
        double num = 0, den = 0;
        for (int i = 0; i < f.length; i++) {
            if (Double.isNaN(t[i]) && Double.isNaN(f[i])) continue;
            if (Double.isInfinite(t[i]) && f[i] == t[i]) continue;
            if (!Double.isFinite(f[i]) || !Double.isFinite(t[i])) return Double.POSITIVE_INFINITY;
            num += (f[i] - t[i]) * (f[i] - t[i]);
            den += t[i] * t[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** The element that differs most (a NaN or infinity on one side only counts as the most). */
    private static int worstElement(double[] f, double[] t) {
        int worst = 0;
        double most = -1;
        for (int i = 0; i < f.length; i++) {
            double d = f[i] == t[i] || (Double.isNaN(f[i]) && Double.isNaN(t[i])) ? 0 : Math.abs(f[i] - t[i]);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            if (d > most) {
                most = d;
                worst = i;
            }
        }
        return worst;
    }
}
