package org.d2v.train;

/**
 * A step produced a non-finite value (the loss, the gradient norm or a weight): the run stops before
 * any checkpoint could save it, and its last good checkpoint stays. The message names the step,
 * what the replay of that step in checking mode found ({@link StepReplay}), and the last good
 * checkpoint.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;
    private final String replay;

    /**
     * @param what           "loss is NaN at step 7", ...
     * @param replay         what the checking replay of the step found (null: not replayed)
     * @param lastCheckpoint the newest checkpoint of the run, or null if none was written
     */
    public TrainingDivergedException(long step, String what, String replay, String lastCheckpoint) {
        super(what + "; training stopped." + (replay == null ? "" : " " + replay)
                + (lastCheckpoint == null ? " No checkpoint was written yet." : " The last good checkpoint is " + lastCheckpoint + "."));
        this.step = step;
        this.replay = replay;
    }

    public long step() { return step; }

    /** What the replay of the step with every op's output checked found, or null. */
    public String replay() { return replay; }
}
