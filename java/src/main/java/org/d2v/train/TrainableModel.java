package org.d2v.train;

import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.dist.DataParallel;
import org.d2v.tensor.Tensor;

/**
 * The contract between the pretraining loop (schedules, checkpoints, metrics) and a model that
 * owns its parameters, optimizer state and teacher.
 */
public interface TrainableModel extends AutoCloseable {
    Device device();

    /**
     * One full update n (1-based) on this rank's share of the global batch: masks, student and
     * teacher forward, loss and backward for each micro-batch (gradients accumulated), the sum of
     * the gradients over the ranks ({@code dp}), clipping, AdamW at {@code lr}, then the EMA
     * teacher update for step n. The loss is normalised over the whole global batch, so the update
     * equals one step on the global batch in one piece. All randomness from {@code rng}, which
     * every rank holds at the same position and leaves at the same position.
     *
     * <p>The returned stats may be pending (see {@link StepStats}): a step that keeps its
     * statistics on the device queues its work and returns without waiting for it, and the model's
     * checks on the step (e.g. collapse guards) report through {@link StepStats#problem()} when
     * they arrive. They describe the global batch.
     */
    StepStats trainStep(BatchShare share, long step, double lr, RandomStream rng, DataParallel dp);

    /** One update on a whole batch in one process. */
    default StepStats trainStep(Batch batch, long step, double lr, RandomStream rng) {
        return trainStep(BatchShare.whole(batch), step, lr, rng, DataParallel.SINGLE);
    }

    /**
     * Every tensor needed to resume exactly (student and teacher parameters, optimizer moments), by
     * stable names. A checkpoint saves these and a resume copies saved values back into them.
     */
    Map<String, Tensor> state();

    /**
     * Called after the values of {@link #state()} were overwritten (a checkpoint restored): a model
     * that keeps copies derived from them (the bf16 working copy of its weights) refreshes them.
     */
    default void restored() {}

    /**
     * How the model stores its activations ("fp32", "bf16": docs/precision.md), recorded per
     * segment of a run in its checkpoints. State (masters, moments) is the same either way.
     */
    default String precisionId() { return "fp32"; }

    @Override void close();
}
