package org.d2v.train;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.RandomStream;
import org.d2v.data.batch.BatchLoader;
import org.d2v.data.batch.BatchPlan;
import org.d2v.data2vec.Batch;

/**
 * A {@link BatchSource} read through the prefetching {@link BatchLoader}: global batches in the
 * order of a {@link BatchPlan} (a seeded permutation per epoch, or length buckets for audio), each
 * assembled with a random stream of its own, sample i of a batch drawing from its own stream
 * ({@link #sampleStream}), so a sample comes out the same whichever rank assembles it. Sharded
 * ({@link #shard}), a rank assembles only its micro-batches of each global batch.
 *
 * <p>The position is the number of global samples served, so a seek rebuilds the loader exactly
 * where the run stood, with any number of ranks. {@link #waitSeconds()} is the time the training
 * loop spent waiting for data, the loading cost a step actually pays.
 */
final class LoaderSource implements BatchSource {
    static final int PREFETCH = 2;

    /** Builds samples {@code from … to − 1} of the global batch whose dataset indices are {@code indices}. */
    @FunctionalInterface
    interface PartAssembler {
        Batch assemble(int[] indices, int from, int to, RandomStream batchRng) throws Exception;
    }

    private final BatchPlan plan;
    private final long seed;
    private final PartAssembler assembler;
    private final String description;
    private final AutoCloseable resources;
    private final RunFiles runFiles;
    private Sharding sharding = Sharding.NONE;
    private BatchLoader<BatchShare> loader;
    private long epochSamples = -1;
    private double waitedBefore;

    /** Writes a source's run files into a run folder (see {@link BatchSource#saveRunFiles}). */
    @FunctionalInterface
    interface RunFiles {
        void save(java.nio.file.Path runDir) throws java.io.IOException;
    }

    LoaderSource(int size, int batchSize, long seed, PartAssembler assembler, String description) {
        this(BatchPlan.shuffled(size, batchSize, seed), seed, assembler, description, null, null);
    }

    /** {@code resources} (a token file, say) are closed with the source, {@code runFiles} saves its tokenizer; both may be null. */
    LoaderSource(BatchPlan plan, long seed, PartAssembler assembler, String description, AutoCloseable resources, RunFiles runFiles) {
        this.plan = plan;
        this.seed = seed;
        this.assembler = assembler;
        this.description = description;
        this.resources = resources;
        this.runFiles = runFiles;
        this.loader = loaderAt(0);
    }

    /** Sample i's own stream within a batch's: what it draws does not depend on the other samples. */
    static RandomStream sampleStream(RandomStream batch, int i) {
        return new RandomStream(batch.seed(), (long) i << 40); // 2^40 draws apart: never overlapping
    }

    private BatchLoader<BatchShare> loaderAt(long batch) {
        Sharding s = sharding;
        return new BatchLoader<>(plan, seed, batch, PREFETCH, (idx, rng) -> {
            List<BatchShare.Part> parts = new ArrayList<>();
            for (int k = 0; k < s.updateFreq(); k++) {
                int from = s.from(k, idx.length), to = s.to(k, idx.length);
                parts.add(new BatchShare.Part(assembler.assemble(idx, from, to, rng), from));
            }
            return new BatchShare(parts, idx.length);
        });
    }

    @Override public Batch next() { return nextShare().single(); }

    @Override public BatchShare nextShare() { return loader.next(); }

    /** From now on this rank reads only its micro-batches; the position stays where it is. */
    @Override
    public void shard(Sharding s) {
        long at = position();
        sharding = s;
        restartAt(batchAt(at));
    }

    @Override public long position() { return samplesAt(loader.served()); }

    @Override
    public void seek(long position) {
        if (position < 0) throw new IllegalArgumentException("negative data position " + position);
        restartAt(batchAt(position));
    }

    @Override
    public void seekToBatch(long batches) {
        if (batches < 0) throw new IllegalArgumentException("negative data position " + batches);
        restartAt(batches);
    }

    private void restartAt(long batch) {
        waitedBefore += loader.waitNanos() * 1e-9;
        loader.close();
        loader = loaderAt(batch);
    }

    /** Samples in the global batches before global batch {@code batches} (counted over epochs). */
    private long samplesAt(long batches) {
        int per = plan.batchesPerEpoch();
        long epoch = batches / per;
        long samples = epoch * epochSamples();
        for (int k = 0; k < batches % per; k++) samples += plan.batch(epoch, k).length;
        return samples;
    }

    /** The global batch that starts after {@code samples} samples; an error if none starts there. */
    private long batchAt(long samples) {
        long epoch = samples / epochSamples(), rest = samples % epochSamples();
        long batch = epoch * plan.batchesPerEpoch();
        for (int k = 0; rest > 0; k++, batch++) rest -= plan.batch(epoch, k).length;
        if (rest < 0) {
            throw new IllegalArgumentException("data position " + samples + " (samples) is not the start of a global batch of "
                    + description + ": the run was trained with another batch size (--batch)");
        }
        return batch;
    }

    /** Every epoch serves the same batches, in another order. */
    private long epochSamples() {
        if (epochSamples < 0) {
            long n = 0;
            for (int k = 0; k < plan.batchesPerEpoch(); k++) n += plan.batch(0, k).length;
            epochSamples = n;
        }
        return epochSamples;
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
