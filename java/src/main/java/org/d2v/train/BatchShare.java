package org.d2v.train;

import java.util.List;
import org.d2v.data2vec.Batch;

/**
 * This process's part of one global batch: its micro-batches in order, each with the index of its
 * first sample in the global batch of {@code globalSamples}. A model derives every per-sample random
 * draw (masks, dropout, noise) from those global indices, so an update computes the same whatever
 * the number of ranks and micro-batches the global batch is cut into (docs/distributed.md).
 */
public record BatchShare(List<Part> parts, int globalSamples) {
    /** A micro-batch: samples {@code first} … {@code first + batch.size() − 1} of the global batch. */
    public record Part(Batch batch, int first) {
        public Part {
            if (first < 0) throw new IllegalArgumentException("negative first sample " + first);
        }

        public int size() { return batch.size(); }
    }

    public BatchShare {
        parts = List.copyOf(parts);
        if (parts.isEmpty()) throw new IllegalArgumentException("a share has at least one micro-batch");
        for (Part p : parts) {
            if (p.first() + p.size() > globalSamples) {
                throw new IllegalArgumentException("micro-batch of samples " + p.first() + "…" + (p.first() + p.size() - 1)
                        + " lies outside the global batch of " + globalSamples);
            }
        }
    }

    /** One process, one micro-batch: the whole global batch. */
    public static BatchShare whole(Batch batch) { return new BatchShare(List.of(new Part(batch, 0)), batch.size()); }

    /** Samples in this share (over its micro-batches). */
    public int samples() { return parts.stream().mapToInt(Part::size).sum(); }

    /** The only micro-batch of a share that is the whole global batch (unsharded sources). */
    public Batch single() {
        if (parts.size() != 1 || parts.get(0).size() != globalSamples) {
            throw new IllegalStateException("this source is sharded (" + parts.size() + " micro-batches of a global batch of "
                    + globalSamples + "): read it with nextShare()");
        }
        return parts.get(0).batch();
    }
}
