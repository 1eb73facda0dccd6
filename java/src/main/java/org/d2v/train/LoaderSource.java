package org.d2v.train;

import org.d2v.data.batch.BatchAssembler;
import org.d2v.data.batch.BatchLoader;
import org.d2v.data.batch.DataPosition;
import org.d2v.data2vec.Batch;

/**
 * A {@link BatchSource} over a data set of {@code size} examples, read through the prefetching
 * {@link BatchLoader} (a seeded permutation per epoch, augmentations from a per-batch stream).
 * The position is the number of batches served, which maps one-to-one onto the loader's
 * (epoch, index), so a seek rebuilds the loader exactly where the run stood.
 */
final class LoaderSource implements BatchSource {
    private static final int PREFETCH = 2;

    private final int size, batchSize;
    private final long seed;
    private final BatchAssembler<Batch> assembler;
    private final String description;
    private BatchLoader<Batch> loader;

    LoaderSource(int size, int batchSize, long seed, BatchAssembler<Batch> assembler, String description) {
        this.size = size;
        this.batchSize = batchSize;
        this.seed = seed;
        this.assembler = assembler;
        this.description = description;
        this.loader = new BatchLoader<>(size, batchSize, seed, DataPosition.START, PREFETCH, assembler);
    }

    @Override public Batch next() { return loader.next(); }

    @Override
    public long position() {
        DataPosition p = loader.position();
        return p.epoch() * loader.batchesPerEpoch() + p.index() / batchSize;
    }

    @Override
    public void seek(long position) {
        if (position < 0) throw new IllegalArgumentException("negative data position " + position);
        int perEpoch = size / batchSize;
        loader.close();
        loader = new BatchLoader<>(size, batchSize, seed, new DataPosition(position / perEpoch, position % perEpoch * (long) batchSize),
                PREFETCH, assembler);
    }

    @Override public String describe() { return description; }

    @Override public void close() { loader.close(); }
}
