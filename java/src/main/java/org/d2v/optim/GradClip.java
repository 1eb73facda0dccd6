package org.d2v.optim;

import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Global-norm gradient clipping as fairseq does it: the norm over every gradient (one
 * {@code sumSquares} launch over the flat gradient buffer), and a factor
 * min(1, maxNorm / (norm + 1e-6)) that AdamW folds into its gradient scale instead of
 * rewriting the gradients. In training it all stays on the device ({@link #onDevice}): AdamW reads
 * the factor from there, so the host never waits for the norm.
 */
public final class GradClip {
    private GradClip() {}

    /**
     * Σ g² of the store's flat gradient buffer into sumSquares, then the norm and the clip factor
     * (see {@link #factor}) into norm and factor: three one-element device tensors, nothing read back.
     */
    public static void onDevice(ParameterStore store, double maxNorm, Tensor sumSquares, Tensor norm, Tensor factor) {
        store.device().ops().sumSquares(store.grads(), sumSquares, false);
        store.device().ops().clipFactor(sumSquares, maxNorm, norm, factor);
    }

    /** √Σ g² over the store's flat gradient buffer, read back (a host synchronisation: for tests and tools). */
    public static double globalNorm(ParameterStore store) {
        try (Tensor out = Tensor.empty(store.device(), store.dtype(), Shape.of(1))) {
            store.device().ops().sumSquares(store.grads(), out, false);
            return Math.sqrt(out.item());
        }
    }

    /** The factor to scale gradients by; 1 when maxNorm ≤ 0 (clipping off). {@link org.d2v.backend.Ops#clipFactor} computes the same on the device. */
    public static double factor(double norm, double maxNorm) {
        if (maxNorm <= 0) return 1;
        return Math.min(1, maxNorm / (norm + 1e-6));
    }
}
