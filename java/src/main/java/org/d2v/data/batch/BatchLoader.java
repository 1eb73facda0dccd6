package org.d2v.data.batch;

import org.d2v.backend.RandomStream;
import org.d2v.data.DataLoadException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Endless batches in the order of a {@link BatchPlan} (by default fixed-size slices of a fresh
 * seeded permutation per epoch). A background thread assembles up to {@code prefetch} batches
 * ahead, in plan order, so what a batch holds never depends on thread timing.
 *
 * <p>Positions count batches served: batch n is batch {@code n % perEpoch} of epoch
 * {@code n / perEpoch}, and its random stream is derived from the seed and n alone.
 * {@link #served()} is the position of the batch {@link #next()} will return next (not of the
 * prefetched ones), so a loader built from it yields exactly the same next batch, augmentations
 * included. An assembler's error reaches the caller at the {@link #next()} that needed that batch
 * (an {@link IOException} as a {@link DataLoadException}, whose message names the file), and stops
 * the prefetching.
 */
public final class BatchLoader<B> implements AutoCloseable {
    private record Item<B>(B batch, Throwable error) {}

    private final BatchPlan plan;
    private final int perEpoch, batchSize;
    private final long seed;
    private final BatchAssembler<B> assembler;
    private final BlockingQueue<Item<B>> queue;
    private final Thread worker;
    private long served;
    private volatile long waitNanos;
    private volatile boolean closed;

    /** Fixed-size batches over a seeded permutation, starting at {@code start} (a batch start). */
    public BatchLoader(int size, int batchSize, long seed, DataPosition start, int prefetch, BatchAssembler<B> assembler) {
        this(BatchPlan.shuffled(size, batchSize, seed), seed, flat(start, size, batchSize), prefetch, assembler, batchSize);
    }

    /** Batches in {@code plan}'s order, from batch number {@code start} (counted over all epochs). */
    public BatchLoader(BatchPlan plan, long seed, long start, int prefetch, BatchAssembler<B> assembler) {
        this(plan, seed, start, prefetch, assembler, 0);
    }

    private BatchLoader(BatchPlan plan, long seed, long start, int prefetch, BatchAssembler<B> assembler, int batchSize) {
        if (prefetch < 1) throw new IllegalArgumentException("prefetch must be >= 1");
        if (start < 0) throw new IllegalArgumentException("negative batch position " + start);
        this.plan = plan;
        this.perEpoch = plan.batchesPerEpoch();
        if (perEpoch < 1) throw new IllegalArgumentException("the batch plan has no batch");
        this.batchSize = batchSize;
        this.seed = seed;
        this.assembler = assembler;
        this.served = start;
        this.queue = new ArrayBlockingQueue<>(prefetch);
        this.worker = new Thread(this::produce, "d2v-batch-prefetch");
        worker.setDaemon(true);
        worker.start();
    }

    private static long flat(DataPosition p, int size, int batchSize) {
        if (batchSize <= 0 || batchSize > size) throw new IllegalArgumentException("batch size " + batchSize + " for " + size + " examples");
        if (p.index() % batchSize != 0 || p.index() + batchSize > size) {
            throw new IllegalArgumentException("position " + p + " is not a batch start for batch size " + batchSize + " and " + size + " examples");
        }
        return p.epoch() * (size / batchSize) + p.index() / batchSize;
    }

    public int batchesPerEpoch() { return perEpoch; }

    /** Batches served so far (counted from epoch 0): the position of the batch the next {@link #next()} returns. */
    public synchronized long served() { return served; }

    /**
     * {@link #served()} as (epoch, index of the batch's first example in the epoch's permutation),
     * for loaders of fixed-size batches; with another plan the index is the batch number.
     */
    public synchronized DataPosition position() {
        long k = served % perEpoch;
        return new DataPosition(served / perEpoch, batchSize > 0 ? k * batchSize : k);
    }

    /** Total time {@link #next()} has waited for the prefetch thread (the data cost a step sees). */
    public long waitNanos() { return waitNanos; }

    /** The next batch, in order; rethrows what the assembler threw for it. */
    public synchronized B next() {
        if (closed) throw new IllegalStateException("loader is closed");
        Item<B> item;
        long t0 = System.nanoTime();
        try {
            item = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        } finally {
            waitNanos += System.nanoTime() - t0;
        }
        if (item.error() != null) {
            // Put it back: every later call reports the same failure instead of blocking forever.
            queue.offer(item);
            String where = "batch " + served + " (epoch " + served / perEpoch + ")";
            if (item.error() instanceof IOException io) throw new DataLoadException(io, where);
            if (item.error() instanceof UncheckedIOException u) throw new DataLoadException(u.getCause(), where);
            throw new IllegalStateException(where + " failed: " + item.error().getMessage(), item.error());
        }
        served++;
        return item.batch();
    }

    /** The dataset indices of the batch at {@code p} (a pure function of seed and position; fixed-size loaders). */
    public int[] indicesAt(DataPosition p) {
        return plan.batch(p.epoch(), (int) (batchSize > 0 ? p.index() / batchSize : p.index()));
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

    /** The random stream of batch number {@code n}: independent of every other batch's. */
    public static RandomStream streamOf(long seed, long n) { return new RandomStream(mix(seed, -2, n)); }

    private void produce() {
        long n = served;
        while (!closed) {
            Item<B> item;
            try {
                int[] idx = plan.batch(n / perEpoch, (int) (n % perEpoch));
                item = new Item<>(assembler.assemble(idx, streamOf(seed, n)), null);
            } catch (Throwable t) {
                item = new Item<>(null, t);
            }
            try {
                queue.put(item);
            } catch (InterruptedException e) {
                return;
            }
            if (item.error() != null) return;
            n++;
        }
    }

    /** splitmix64 over (seed, a, b): independent streams per epoch and per batch. */
    static long mix(long seed, long a, long b) {
        long z = seed;
        for (long v : new long[] {a, b}) {
            z += 0x9E3779B97F4A7C15L + v * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
        }
        return z;
    }

    /** Stops the prefetch thread and waits for it (no thread outlives the loader). */
    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
