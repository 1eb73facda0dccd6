package org.d2v.train;

import org.d2v.data.batch.BatchAssembler;
import org.d2v.data.batch.BatchLoader;
import org.d2v.data.batch.BatchPlan;
import org.d2v.data2vec.Batch;

/**
 * A {@link BatchSource} read through the prefetching {@link BatchLoader}: batches in the order of a
 * {@link BatchPlan} (a seeded permutation per epoch, or length buckets for audio), each assembled
 * with a random stream of its own. The position is the number of batches served, so a seek
 * rebuilds the loader exactly where the run stood. {@link #waitSeconds()} is the time the training
 * loop spent waiting for data, the loading cost a step actually pays.
 */
final class LoaderSource implements BatchSource {
    static final int PREFETCH = 2;

    private final BatchPlan plan;
    private final long seed;
    private final BatchAssembler<Batch> assembler;
    private final String description;
    private final AutoCloseable resources;
    private final RunFiles runFiles;
    private BatchLoader<Batch> loader;
    private double waitedBefore;

    /** Writes a source's run files into a run folder (see {@link BatchSource#saveRunFiles}). */
    @FunctionalInterface
    interface RunFiles {
        void save(java.nio.file.Path runDir) throws java.io.IOException;
    }

    LoaderSource(int size, int batchSize, long seed, BatchAssembler<Batch> assembler, String description) {
        this(BatchPlan.shuffled(size, batchSize, seed), seed, assembler, description, null, null);
    }

    /** {@code resources} (a token file, say) are closed with the source, {@code runFiles} saves its tokenizer; both may be null. */
    LoaderSource(BatchPlan plan, long seed, BatchAssembler<Batch> assembler, String description, AutoCloseable resources, RunFiles runFiles) {
        this.plan = plan;
        this.seed = seed;
        this.assembler = assembler;
        this.description = description;
        this.resources = resources;
        this.runFiles = runFiles;
        this.loader = new BatchLoader<>(plan, seed, 0, PREFETCH, assembler);
    }

    @Override public Batch next() { return loader.next(); }

    @Override public long position() { return loader.served(); }

    @Override
    public void seek(long position) {
        if (position < 0) throw new IllegalArgumentException("negative data position " + position);
        waitedBefore += loader.waitNanos() * 1e-9;
        loader.close();
        loader = new BatchLoader<>(plan, seed, position, PREFETCH, assembler);
    }

    @Override public String describe() { return description; }

    @Override
    public void saveRunFiles(java.nio.file.Path runDir) throws java.io.IOException {
        if (runFiles != null) runFiles.save(runDir);
    }

    @Override public double waitSeconds() { return waitedBefore + loader.waitNanos() * 1e-9; }

    @Override
    public void close() {
        loader.close();
        if (resources != null) {
            try {
                resources.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + description + ": " + e.getMessage(), e);
            }
        }
    }
}
