package org.d2v.train;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.RandomStream;
import org.d2v.data.batch.BatchLoader;
import org.d2v.data2vec.Batch;

/**
 * Synthetic data for tests, smoke runs and benchmarks before (or without) real data: sample i of
 * global batch k is a pure function of (seed, k, i), so {@link #seek} is free, a resumed run sees
 * the same batches, and a sharded source ({@link #shard}) makes each rank's samples exactly as an
 * unsharded one would. Positions count samples. The signals have structure a model can learn
 * (smooth images, tones, repeated token patterns), so the pretraining loss of a working model
 * falls on them.
 */
public abstract sealed class GeneratedSource implements BatchSource {
    private final long seed;
    protected final int batchSize;
    private Sharding sharding = Sharding.NONE;
    private long batches;

    private GeneratedSource(long seed, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        this.seed = seed;
        this.batchSize = batchSize;
    }

    /** Images [batch, size, size, channels]: a few random 2-D sinusoids per image, values about in [-1, 1]. */
    public static GeneratedSource images(int batchSize, int size, int channels, long seed) {
        return new Images(seed, batchSize, size, channels);
    }

    /** Audio [batch, samples] at 16 kHz: a few random tones with their harmonics and a little noise. */
    public static GeneratedSource audio(int batchSize, int samples, long seed) {
        return new Audio(seed, batchSize, samples);
    }

    /** Token ids [batch, length] in [0, vocab): a random short motif repeated with random substitutions. */
    public static GeneratedSource text(int batchSize, int length, int vocab, long seed) {
        return new Text(seed, batchSize, length, vocab);
    }

    @Override public final Batch next() { return nextShare().single(); }

    @Override
    public final BatchShare nextShare() {
        RandomStream batch = BatchLoader.streamOf(seed, batches++);
        List<BatchShare.Part> parts = new ArrayList<>();
        for (int k = 0; k < sharding.updateFreq(); k++) {
            int from = sharding.from(k, batchSize), to = sharding.to(k, batchSize);
            List<RandomStream> streams = new ArrayList<>();
            for (int i = from; i < to; i++) streams.add(LoaderSource.sampleStream(batch, i));
            parts.add(new BatchShare.Part(generate(streams), from));
        }
        return new BatchShare(parts, batchSize);
    }

    @Override public final void shard(Sharding s) { this.sharding = s; }

    @Override public final long position() { return batches * batchSize; }

    @Override
    public final void seek(long position) {
        if (position < 0) throw new IllegalArgumentException("negative data position " + position);
        if (position % batchSize != 0) {
            throw new IllegalArgumentException("data position " + position + " (samples) is not the start of a global batch of "
                    + batchSize + ": the run was trained with another batch size (--batch)");
        }
        this.batches = position / batchSize;
    }

    @Override public final void seekToBatch(long batches) {
        if (batches < 0) throw new IllegalArgumentException("negative data position " + batches);
        this.batches = batches;
    }

    /** One sample per stream, in order. */
    abstract Batch generate(List<RandomStream> samples);

    private static final class Images extends GeneratedSource {
        private final int size, channels;

        Images(long seed, int batchSize, int size, int channels) {
            super(seed, batchSize);
            this.size = size;
            this.channels = channels;
        }

        @Override
        Batch generate(List<RandomStream> samples) {
            float[] px = new float[samples.size() * size * size * channels];
            int i = 0;
            for (RandomStream rng : samples) {
                double[][] waves = new double[3][4];
                for (double[] w : waves) {
                    w[0] = (rng.nextUniform() * 2 - 1) * 0.4; // frequency in y (cycles per pixel)
                    w[1] = (rng.nextUniform() * 2 - 1) * 0.4; // frequency in x
                    w[2] = rng.nextUniform() * 2 * Math.PI;    // phase
                    w[3] = rng.nextUniform() * 0.5 + 0.1;      // amplitude
                }
                double[] tint = new double[channels];
                for (int c = 0; c < channels; c++) tint[c] = 0.5 + rng.nextUniform();
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        double v = 0;
                        for (double[] w : waves) v += w[3] * Math.sin(2 * Math.PI * (w[0] * y + w[1] * x) + w[2]);
                        for (int c = 0; c < channels; c++) px[i++] = (float) (v * tint[c]);
                    }
                }
            }
            return new Batch.Images(samples.size(), size, size, channels, px);
        }

        @Override public String describe() { return "generated images " + size + "x" + size + "x" + channels; }
    }

    private static final class Audio extends GeneratedSource {
        private final int samples;

        Audio(long seed, int batchSize, int samples) {
            super(seed, batchSize);
            this.samples = samples;
        }

        @Override
        Batch generate(List<RandomStream> streams) {
            float[] w = new float[streams.size() * samples];
            for (int b = 0; b < streams.size(); b++) {
                RandomStream rng = streams.get(b);
                double f0 = 80 + rng.nextUniform() * 400, f1 = 300 + rng.nextUniform() * 2000;
                double p0 = rng.nextUniform() * 2 * Math.PI, p1 = rng.nextUniform() * 2 * Math.PI;
                double noise = 0.02 + rng.nextUniform() * 0.03;
                for (int t = 0; t < samples; t++) {
                    double s = t / 16000.0;
                    double envelope = 0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * s + p1);
                    double v = envelope * (0.5 * Math.sin(2 * Math.PI * f0 * s + p0) + 0.25 * Math.sin(4 * Math.PI * f0 * s + p0))
                            + 0.2 * Math.sin(2 * Math.PI * f1 * s) + noise * (rng.nextUniform() * 2 - 1);
                    w[b * samples + t] = (float) v;
                }
            }
            return new Batch.Audio(streams.size(), samples, w);
        }

        @Override public String describe() { return "generated audio, " + samples + " samples at 16 kHz"; }
    }

    private static final class Text extends GeneratedSource {
        private final int length, vocab;

        Text(long seed, int batchSize, int length, int vocab) {
            super(seed, batchSize);
            if (vocab < 5) throw new IllegalArgumentException("vocabulary must have at least 5 ids (4 special), got " + vocab);
            this.length = length;
            this.vocab = vocab;
        }

        @Override
        Batch generate(List<RandomStream> samples) {
            int[] ids = new int[samples.size() * length];
            for (int b = 0; b < samples.size(); b++) {
                RandomStream rng = samples.get(b);
                int[] motif = new int[2 + rng.nextInt(7)];
                // Ids 0..3 are left to special tokens (bos, pad, eos, unk in fairseq's dictionaries).
                for (int k = 0; k < motif.length; k++) motif[k] = 4 + rng.nextInt(vocab - 4);
                for (int t = 0; t < length; t++) {
                    boolean substitute = rng.nextUniform() < 0.1;
                    ids[b * length + t] = substitute ? 4 + rng.nextInt(vocab - 4) : motif[t % motif.length];
                }
                ids[b * length] = 0; // a beginning-of-sequence id, as the real text loader puts there
            }
            return new Batch.Text(samples.size(), length, ids);
        }

        @Override public String describe() { return "generated text, " + length + " tokens, vocabulary " + vocab; }
    }
}
