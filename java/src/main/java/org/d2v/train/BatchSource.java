package org.d2v.train;

import org.d2v.data2vec.Batch;

/**
 * Where the pretraining loop gets its batches. {@link #position()} is everything a resume needs
 * to continue the exact same sequence: after {@code seek(p)} the source must return what it
 * returned after its p-th position the first time.
 *
 * <p>A source may be sharded ({@link Sharding}): each rank of a data-parallel job then reads only
 * its micro-batches of every global batch through {@link #nextShare()}; positions count samples
 * of the global batches, so they are the same on every rank and for any number of ranks.
 */
public interface BatchSource extends AutoCloseable {
    /** The next batch (a whole global batch: an unsharded source); the position moves on. */
    Batch next();

    /** This rank's part of the next global batch; by default the whole of {@link #next()}. */
    default BatchShare nextShare() { return BatchShare.whole(next()); }

    /**
     * From now on, read only this rank's micro-batches of every global batch ({@link #nextShare()});
     * the position stays where it is. Sources that cannot be cut accept only {@link Sharding#NONE}.
     */
    default void shard(Sharding sharding) {
        if (sharding.parts() != 1) throw new UnsupportedOperationException(describe() + " cannot be sharded across ranks or micro-batches");
    }

    /** An opaque, monotone position (the sources of TrainingData: global samples served so far). */
    long position();

    /** Continues from a position earlier returned by {@link #position()}. */
    void seek(long position);

    /**
     * Continues after {@code batches} global batches: the data position of checkpoints of format 2
     * and older, which counted batches. By default positions are batches.
     */
    default void seekToBatch(long batches) { seek(batches); }

    /** One line for logs: what data this is. */
    default String describe() { return getClass().getSimpleName(); }

    /**
     * Seconds {@link #next()} has spent waiting for data so far (decoding that the prefetch thread
     * could not hide behind the previous step); 0 for sources that compute batches in the caller.
     */
    default double waitSeconds() { return 0; }

    /**
     * Writes what a run needs besides its checkpoints to read its data the same way again (a text
     * source's tokenizer) into {@code runDir}; nothing by default.
     */
    default void saveRunFiles(java.nio.file.Path runDir) throws java.io.IOException {}

    @Override default void close() {}
}
