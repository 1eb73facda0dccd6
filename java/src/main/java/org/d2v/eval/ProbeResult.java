package org.d2v.eval;

/** What a probe measured: accuracies on the two splits, optimiser iterations and final training objective. */
public record ProbeResult(double trainAccuracy, double testAccuracy, int iterations, double loss) {
    @Override
    public String toString() {
        return String.format("train %.4f  test %.4f  (%d iterations, loss %.4f)", trainAccuracy, testAccuracy, iterations, loss);
    }
}
