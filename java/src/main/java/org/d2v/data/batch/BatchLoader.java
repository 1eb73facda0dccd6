package org.d2v.data.batch;

import org.d2v.backend.RandomStream;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Endless batches over a dataset of {@code size} examples: each epoch visits a fresh seeded
 * permutation in steps of {@code batchSize} (the incomplete tail batch is dropped, so every batch
 * has the same shape). A background thread assembles up to {@code prefetch} batches ahead.
 *
 * <p>{@link #position()} is the position of the batch that {@link #next()} will return next (not
 * of the prefetched ones), so saving it and building a new loader from it yields exactly the same
 * next batch, augmentations included.
 */
public final class BatchLoader<B> implements AutoCloseable {
    private record Item<B>(B batch, Throwable error) {}

    private final int size, batchSize;
    private final long seed;
    private final BatchAssembler<B> assembler;
    private final BlockingQueue<Item<B>> queue;
    private final Thread worker;
    private DataPosition position;
    private volatile boolean closed;

    public BatchLoader(int size, int batchSize, long seed, DataPosition start, int prefetch, BatchAssembler<B> assembler) {
        if (batchSize <= 0 || batchSize > size) throw new IllegalArgumentException("batch size " + batchSize + " for " + size + " examples");
        if (prefetch < 1) throw new IllegalArgumentException("prefetch must be >= 1");
        if (start.index() % batchSize != 0 || start.index() + batchSize > size) {
            throw new IllegalArgumentException("position " + start + " is not a batch start for batch size " + batchSize + " and " + size + " examples");
        }
        this.size = size;
        this.batchSize = batchSize;
        this.seed = seed;
        this.assembler = assembler;
        this.position = start;
        this.queue = new ArrayBlockingQueue<>(prefetch);
        this.worker = new Thread(this::produce, "d2v-batch-prefetch");
        worker.setDaemon(true);
        worker.start();
    }

    public int batchesPerEpoch() { return size / batchSize; }

    /** The position of the batch the next call to {@link #next()} returns. */
    public synchronized DataPosition position() { return position; }

    /** The next batch, in order; rethrows (wrapped) what the assembler threw. */
    public synchronized B next() {
        if (closed) throw new IllegalStateException("loader is closed");
        Item<B> item;
        try {
            item = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
        if (item.error() != null) throw new IllegalStateException("batch at " + position + " failed: " + item.error().getMessage(), item.error());
        position = advance(position);
        return item.batch();
    }

    /** The dataset indices of the batch at {@code p} (a pure function of seed and position). */
    public int[] indicesAt(DataPosition p) {
        int[] perm = permutation(seed, p.epoch(), size);
        int[] out = new int[batchSize];
        System.arraycopy(perm, (int) p.index(), out, 0, batchSize);
        return out;
    }

    /** The seeded permutation of epoch {@code epoch} (Fisher-Yates driven by a RandomStream). */
    public static int[] permutation(long seed, long epoch, int size) {
        RandomStream rng = new RandomStream(mix(seed, epoch, -1));
        int[] p = new int[size];
        for (int i = 0; i < size; i++) p[i] = i;
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private DataPosition advance(DataPosition p) {
        long next = p.index() + batchSize;
        return next + batchSize > size ? new DataPosition(p.epoch() + 1, 0) : new DataPosition(p.epoch(), next);
    }

    private void produce() {
        DataPosition p = position;
        long cachedEpoch = -1;
        int[] perm = null;
        while (!closed) {
            Item<B> item;
            try {
                if (p.epoch() != cachedEpoch) {
                    perm = permutation(seed, p.epoch(), size);
                    cachedEpoch = p.epoch();
                }
                int[] idx = new int[batchSize];
                System.arraycopy(perm, (int) p.index(), idx, 0, batchSize);
                item = new Item<>(assembler.assemble(idx, new RandomStream(mix(seed, p.epoch(), p.index()))), null);
            } catch (Throwable t) {
                item = new Item<>(null, t);
            }
            try {
                queue.put(item);
            } catch (InterruptedException e) {
                return;
            }
            if (item.error() != null) return;
            p = advance(p);
        }
    }

    /** splitmix64 over (seed, epoch, index): independent streams per epoch and per batch. */
    static long mix(long seed, long epoch, long index) {
        long z = seed;
        for (long v : new long[] {epoch, index}) {
            z += 0x9E3779B97F4A7C15L + v * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
        }
        return z;
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
