package org.d2v.data2vec.config;

/**
 * Everything that defines one data2vec 2.0 model and its pretraining: {@code clones} = M masks
 * per sample, {@code batchSize} samples per update (the GLOBAL batch: all ranks and micro-batches
 * together), {@code deviceBatch} the samples one device takes at a time (fairseq's per-GPU batch:
 * the default micro-batch, and the batch the image CLS loss weight refers to, docs/distributed.md),
 * {@code seed} for the parameter initialisation. For audio both count clips of the longest length
 * (max_tokens = batch × max_sample_size).
 */
public record Data2VecConfig(String name, ModalityConfig modality, EncoderConfig encoder, MaskConfig mask,
                             DecoderConfig decoder, EmaConfig ema, LossConfig loss, OptimConfig optim,
                             int clones, int batchSize, long seed, int deviceBatch) {
    public Data2VecConfig {
        if (clones < 1 || batchSize < 1) throw new IllegalArgumentException("clones and batchSize must be ≥ 1");
        if (deviceBatch < 1 || deviceBatch > batchSize) {
            throw new IllegalArgumentException("deviceBatch must be in [1, batchSize " + batchSize + "], got " + deviceBatch);
        }
        if (loss.topK() > encoder.depth()) {
            throw new IllegalArgumentException("topK " + loss.topK() + " exceeds the " + encoder.depth() + " main blocks");
        }
        if (modality instanceof ModalityConfig.Text && encoder.prenetDepth() != 0) {
            throw new IllegalArgumentException("text has no prenet (docs/algorithm.md §3.3): prenetDepth must be 0");
        }
    }

    /** A configuration whose one device takes the whole batch (deviceBatch = batchSize). */
    public Data2VecConfig(String name, ModalityConfig modality, EncoderConfig encoder, MaskConfig mask,
                          DecoderConfig decoder, EmaConfig ema, LossConfig loss, OptimConfig optim,
                          int clones, int batchSize, long seed) {
        this(name, modality, encoder, mask, decoder, ema, loss, optim, clones, batchSize, seed, batchSize);
    }

    /**
     * Another global batch. A configuration whose device takes the whole batch keeps doing so; one
     * with a smaller per-device batch (the base presets) keeps it, capped at the new batch.
     */
    public Data2VecConfig withBatchSize(int b) {
        int device = deviceBatch == batchSize ? b : Math.min(deviceBatch, b);
        return new Data2VecConfig(name, modality, encoder, mask, decoder, ema, loss, optim, clones, b, seed, device);
    }

    /** Another per-device batch (at most the global batch). */
    public Data2VecConfig withDeviceBatch(int d) { return new Data2VecConfig(name, modality, encoder, mask, decoder, ema, loss, optim, clones, batchSize, seed, d); }

    public Data2VecConfig withClones(int m) { return new Data2VecConfig(name, modality, encoder, mask, decoder, ema, loss, optim, m, batchSize, seed, deviceBatch); }

    public Data2VecConfig withSeed(long s) { return new Data2VecConfig(name, modality, encoder, mask, decoder, ema, loss, optim, clones, batchSize, s, deviceBatch); }

    /** The MAE-style ablation of this image model: per-patch pixels as targets, no teacher (see {@link LossConfig.Target#PIXELS}). */
    public Data2VecConfig withPixelTargets() {
        if (!(modality instanceof ModalityConfig.Image img)) throw new IllegalArgumentException("pixel targets are for images, not " + name);
        return withLoss(loss.pixelTargets(img.patch() * img.patch() * img.channels()));
    }

    public Data2VecConfig withMask(MaskConfig m) { return new Data2VecConfig(name, modality, encoder, m, decoder, ema, loss, optim, clones, batchSize, seed, deviceBatch); }

    public Data2VecConfig withEma(EmaConfig e) { return new Data2VecConfig(name, modality, encoder, mask, decoder, e, loss, optim, clones, batchSize, seed, deviceBatch); }

    public Data2VecConfig withLoss(LossConfig l) { return new Data2VecConfig(name, modality, encoder, mask, decoder, ema, l, optim, clones, batchSize, seed, deviceBatch); }

    public Data2VecConfig withOptim(OptimConfig o) { return new Data2VecConfig(name, modality, encoder, mask, decoder, ema, loss, o, clones, batchSize, seed, deviceBatch); }

    public Data2VecConfig withEncoder(EncoderConfig e) { return new Data2VecConfig(name, modality, e, mask, decoder, ema, loss, optim, clones, batchSize, seed, deviceBatch); }

    public Data2VecConfig withModality(ModalityConfig m) { return new Data2VecConfig(name, m, encoder, mask, decoder, ema, loss, optim, clones, batchSize, seed, deviceBatch); }
}
