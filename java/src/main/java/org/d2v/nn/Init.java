package org.d2v.nn;

import org.d2v.backend.Ops;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;

/**
 * How a parameter starts. Random initialisers draw on the device from the store's
 * {@link RandomStream} (Philox), so every backend starts from the same numbers.
 */
@FunctionalInterface
public interface Init {
    void apply(Tensor view, Ops ops, RandomStream rng);

    static Init zeros() { return constant(0); }

    static Init ones() { return constant(1); }

    static Init constant(double value) { return (t, ops, rng) -> ops.fill(t, value); }

    /** N(0, std²): BERT init uses std 0.02 (docs/algorithm.md §2). */
    static Init normal(double std) {
        return (t, ops, rng) -> ops.normal(t, 0, std, rng.seed(), rng.takeNormal(t.numel()));
    }

    /** U(−bound, bound). */
    static Init uniform(double bound) {
        return (t, ops, rng) -> {
            ops.uniform(t, rng.seed(), rng.takeUniform(t.numel()));
            // u ∈ [0, 1) → 2·bound·u − bound; the shift comes from a constant tensor (no scalar-add op).
            try (DeviceBuffer buffer = t.device().allocate(t.dtype(), t.numel())) {
                Tensor shift = Tensor.view(buffer, 0, t.shape());
                ops.fill(shift, -bound);
                ops.axpby(2 * bound, t, 0, t);
                ops.axpby(1, shift, 1, t);
            }
        };
    }

    /** PyTorch's default for Linear and Conv weights and biases: U(±1/√fanIn). */
    static Init pytorchDefault(int fanIn) { return uniform(1 / Math.sqrt(fanIn)); }

    /** Xavier (Glorot) uniform: U(±√(6/(fanIn + fanOut))). */
    static Init xavierUniform(int fanIn, int fanOut) { return uniform(Math.sqrt(6.0 / (fanIn + fanOut))); }

    /** Kaiming normal (fan-in, ReLU gain): N(0, 2/fanIn). */
    static Init kaimingNormal(int fanIn) { return normal(Math.sqrt(2.0 / fanIn)); }
}
