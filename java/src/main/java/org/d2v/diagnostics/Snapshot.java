package org.d2v.diagnostics;

import java.util.List;

/**
 * One diagnostics measurement after {@code step} updates, on fixed held-out inputs.
 *
 * @param layers          the teacher's top-K target layers (FFN outputs), first of them first
 * @param targetStd       fairseq's compute_var of the final targets over the held-out tokens (docs/algorithm.md §7.3)
 * @param targetRank      effective rank of the final target vectors (one per token)
 * @param predStd         compute_var of the decoder's predictions at masked positions (eval mode)
 * @param predR2          1 − SSE / SST of the predictions against their targets at masked positions
 * @param featureRank     effective rank of the final output mean-pooled per example (the probe's core feature)
 * @param teacherDistance ‖θ_teacher − θ_student‖ / ‖θ_student‖ over the tracked parameters
 * @param positionShare   share of the targets' spread that position alone explains on a fixed pretraining batch
 *                        ({@link PositionShare}; NaN without one)
 * @param probe           the quick probe's test accuracy at this step (NaN when not measured)
 */
public record Snapshot(long step, List<Layer> layers, double targetStd, double targetRank, double predStd, double predR2,
                       double featureRank, double teacherDistance, double positionShare, double probe) {
    /**
     * Spread of one target layer before ({@code raw*}) and after ({@code norm*}) the instance norm
     * over positions: variance over positions and over channels (see {@link ActivationStats}).
     */
    public record Layer(int block, double rawOverPositions, double rawOverChannels, double normOverPositions, double normOverChannels) {}

    public Snapshot {
        layers = List.copyOf(layers);
    }

    /** The same measurement with the quick probe's accuracy filled in. */
    public Snapshot withProbe(double accuracy) {
        return new Snapshot(step, layers, targetStd, targetRank, predStd, predR2, featureRank, teacherDistance, positionShare, accuracy);
    }
}
