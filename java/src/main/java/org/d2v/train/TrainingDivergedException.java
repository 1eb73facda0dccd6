package org.d2v.train;

/** The loss stopped being a finite number; the run stops and its last good checkpoint stays. */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(long step, double loss, String lastCheckpoint) {
        super("loss is " + loss + " at step " + step + "; training stopped. "
                + (lastCheckpoint == null ? "No checkpoint was written yet." : "The last good checkpoint is " + lastCheckpoint + "."));
        this.step = step;
    }

    public long step() { return step; }
}
