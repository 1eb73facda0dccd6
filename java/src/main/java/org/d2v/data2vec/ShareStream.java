package org.d2v.data2vec;

import org.d2v.backend.Philox;
import org.d2v.backend.RandomStream;

/**
 * The random stream of one micro-batch: samples {@code first … first + count − 1} of a global batch
 * of {@code total}. Every device draw of a training step (dropout, attention dropout, the decoder's
 * noise) is a tensor whose leading dimension runs over the batch's samples (or their clones, which
 * follow their sample), so a draw of n elements here is per = n / count elements per sample. It
 * reserves the offsets of the same draw made for the whole global batch and returns where this
 * micro-batch's samples begin in it: the micro-batch gets exactly the numbers its samples would get
 * in one big batch, whichever rank and micro-batch they land in.
 *
 * <p>Philox hands out 4 uniforms (2 normals) per block, so a sample's part starts on a block only
 * when per is a multiple of 4 (2); every preset's shapes are. Otherwise each sample's part is
 * rounded up to whole blocks: the draws stay independent and never overlap, but are no longer the
 * same numbers as in one big batch. Host draws (layerdrop's per-batch coin) are batch-level: every
 * micro-batch draws the same value, as the one big batch would.
 */
final class ShareStream extends RandomStream {
    private final int first, count, total;
    private long next;

    ShareStream(long seed, long start, int first, int count, int total) {
        super(seed, start);
        if (count < 1 || first < 0 || first + count > total) {
            throw new IllegalArgumentException("samples " + first + " + " + count + " of a batch of " + total);
        }
        this.first = first;
        this.count = count;
        this.total = total;
        this.next = start;
    }

    @Override public long position() { return next; }

    @Override public long takeUniform(long n) { return take(n, 4); }

    @Override public long takeNormal(long n) { return take(n, 2); }

    private long take(long n, int perBlock) {
        if (n % count != 0) {
            throw new IllegalStateException("a random draw of " + n + " elements is not per sample over " + count
                    + " samples: micro-batches would not draw what one big batch draws");
        }
        long perSample = n / count;
        long blocksPerSample = (perSample + perBlock - 1) / perBlock;
        long at = perSample % perBlock == 0 ? next + first * perSample / perBlock : next + first * blocksPerSample;
        next += perSample % perBlock == 0 ? (total * perSample + perBlock - 1) / perBlock : total * blocksPerSample;
        return at;
    }

    @Override public double nextUniform() { return Philox.uniform(seed(), next++, 0); }

    @Override
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be > 0");
        long w = Philox.word(seed(), next++, 0) & 0xFFFFFFFFL;
        return (int) ((w * bound) >>> 32);
    }
}
