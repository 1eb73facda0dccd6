package org.d2v.train;

import org.d2v.data2vec.Batch;

/**
 * Where the pretraining loop gets its batches. {@link #position()} is everything a resume needs
 * to continue the exact same sequence: after {@code seek(p)} the source must return what it
 * returned after its p-th position the first time.
 */
public interface BatchSource extends AutoCloseable {
    /** The next batch; the position moves on. */
    Batch next();

    /** An opaque, monotone position (e.g. batches or samples served so far). */
    long position();

    /** Continues from a position earlier returned by {@link #position()}. */
    void seek(long position);

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
