package org.d2v.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.d2v.data.DataDir;
import org.d2v.data.DataFormatException;
import org.d2v.data.DataInputs;
import org.d2v.data.audio.AudioIndex;
import org.d2v.data.audio.SpeechClip;
import org.d2v.data.audio.SpeechSets;
import org.d2v.data.audio.Wav;
import org.d2v.data.audio.Waveforms;
import org.d2v.data.batch.BatchPlan;
import org.d2v.data.batch.LengthBuckets;
import org.d2v.data.image.Idx;
import org.d2v.data.image.ImageAugmenter;
import org.d2v.data.image.ImageFiles;
import org.d2v.data.image.ImageFolder;
import org.d2v.data.image.ImagePipeline;
import org.d2v.data.image.ImageSets;
import org.d2v.data.image.Images;
import org.d2v.data.image.Split;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Document;
import org.d2v.data.text.TextCorpus;
import org.d2v.data.text.TextSets;
import org.d2v.data.text.TokenBlocks;
import org.d2v.data.text.TokenFile;
import org.d2v.data.text.Tokenizer;
import org.d2v.data.text.Tokenizers;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;

/**
 * Opens the {@link BatchSource} that {@code --data} names for a configuration. The path is
 * recognised by {@link DataInputs}: "generated" (synthetic signals), a data folder of
 * {@code d2v data install}, an IDX file, a folder of images, a fairseq audio manifest, a folder of
 * WAV files, a folder of .txt files or a one-document-per-line file. Files are read lazily by the
 * prefetch thread (only an index of paths and lengths is held), except IDX sets, which are small.
 */
public final class TrainingData {
    public static final String GENERATED = "generated";
    /** Text read to train a tokenizer when none is given (the start of the corpus). */
    public static final long TOKENIZER_SAMPLE_CHARS = 16L << 20;

    private TrainingData() {}

    /** {@link #open(String, Path, Data2VecConfig, long)} without a tokenizer. */
    public static BatchSource open(String data, Data2VecConfig config, long seed) throws IOException {
        return open(data, null, config, seed);
    }

    /**
     * {@code data} is "generated" or a path (see the class comment); batches are shaped for the
     * configuration's modality. {@code tokenizer} (text only; may be null) is a d2v BPE file or a
     * GPT-2 folder (vocab.json + merges.txt + dict.txt); without it an installed set's BPE is used,
     * or one is trained on the corpus.
     */
    public static BatchSource open(String data, Path tokenizer, Data2VecConfig config, long seed) throws IOException {
        try {
            return openNamed(data, tokenizer, config, seed);
        } catch (IllegalArgumentException e) {
            // A problem found below (too few examples for a batch, a vocabulary too small, ...): name the data it is about.
            if (GENERATED.equals(data) || e.getMessage() != null && e.getMessage().contains(data)) throw e;
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            if (why.matches("batch size \\d+ for \\d+ examples")) why += " (fewer examples than one batch of --batch " + config.batchSize() + ")";
            throw new DataFormatException(Path.of(data), why, e);
        }
    }

    private static BatchSource openNamed(String data, Path tokenizer, Data2VecConfig config, long seed) throws IOException {
        int b = config.batchSize();
        ModalityConfig m = config.modality();
        if (GENERATED.equals(data)) {
            if (m instanceof ModalityConfig.Image img) return GeneratedSource.images(b, img.size(), img.channels(), seed);
            if (m instanceof ModalityConfig.Audio audio) return GeneratedSource.audio(b, audio.samples(), seed);
            ModalityConfig.Text text = (ModalityConfig.Text) m;
            return GeneratedSource.text(b, text.length(), text.vocab(), seed);
        }
        DataInputs.Input in = DataInputs.detect(Path.of(data), m.kind());
        Path p = in.path();
        if (m instanceof ModalityConfig.Image img) {
            return switch (in.kind()) {
                case INSTALLED -> images(ImageSets.fashionMnist(p, Split.TRAIN).images(), img, b, seed);
                case IDX -> images(Idx.readImages(p), img, b, seed);
                default -> imageFolder(ImageFolder.flat(p), img, b, seed);
            };
        }
        if (m instanceof ModalityConfig.Audio audio) {
            AudioIndex index = switch (in.kind()) {
                case INSTALLED -> installedSpeech(p);
                case AUDIO_MANIFEST -> AudioIndex.manifest(p);
                default -> AudioIndex.folder(p);
            };
            return audio(index, audio, b, seed);
        }
        ModalityConfig.Text text = (ModalityConfig.Text) m;
        TextCorpus corpus;
        Tokenizer tok = tokenizer == null ? null : Tokenizers.load(tokenizer);
        if (in.kind() == DataInputs.Kind.INSTALLED) {
            Path corpusDir = DataDir.of(p, TextSets.SET).resolve("corpus"); // checks the set against its install record
            List<Path> dirs = new ArrayList<>();
            for (String s : TextSets.SOURCES) dirs.add(corpusDir.resolve(s));
            corpus = TextCorpus.folders(dirs);
            if (tok == null) tok = TextSets.tokenizer(p);
        } else {
            corpus = TextCorpus.of(p);
            if (tok == null) tok = BpeTokenizer.train(corpus.sample(TOKENIZER_SAMPLE_CHARS), text.vocab());
        }
        return text(corpus, tok, text, b, seed);
    }

    // ---- images ---------------------------------------------------------------------------------

    /**
     * An in-memory image set (IDX). At the preset's size and channels: random resized crop + flip
     * (docs/algorithm.md §8), then standardised with the set's own mean and standard deviation (the convention
     * of (Fashion-)MNIST, and of the demo). Any other size: {@link ImagePipeline}, as for folders.
     */
    public static BatchSource images(Images set, ModalityConfig.Image m, int batch, long seed) {
        if (set.height() != m.size() || set.width() != m.size() || set.channels() != m.channels()) return resampledIdx(set, m, batch, seed);
        double sum = 0, sum2 = 0;
        for (float v : set.pixels()) { sum += v; sum2 += (double) v * v; }
        double mean = sum / set.pixels().length, std = Math.sqrt(Math.max(1e-12, sum2 / set.pixels().length - mean * mean));
        ImageAugmenter aug = ImageAugmenter.pretraining();
        int per = set.imageSize();
        return new LoaderSource(set.count(), batch, seed, (idx, from, to, rng) -> {
            float[] px = new float[(to - from) * per];
            for (int i = from; i < to; i++) {
                float[] one = aug.apply(set.image(idx[i]), set.height(), set.width(), set.channels(), LoaderSource.sampleStream(rng, i));
                for (int k = 0; k < per; k++) px[(i - from) * per + k] = (float) ((one[k] - mean) / std);
            }
            return new Batch.Images(to - from, set.height(), set.width(), set.channels(), px);
        }, "images " + set.height() + "x" + set.width() + "x" + set.channels() + ", " + set.count() + " examples");
    }

    private static BatchSource resampledIdx(Images set, ModalityConfig.Image m, int batch, long seed) {
        if (set.channels() != 1) throw new IllegalArgumentException("IDX images have one channel, not " + set.channels());
        ImagePipeline pipe = new ImagePipeline(m.size(), m.channels());
        return new LoaderSource(set.count(), batch, seed, (idx, from, to, rng) -> {
            float[] px = new float[(to - from) * pipe.imageSize()];
            for (int i = from; i < to; i++) {
                float[] grey = set.image(idx[i]);
                float[] chans = new float[grey.length * m.channels()];
                for (int k = 0; k < chans.length; k++) chans[k] = grey[k / m.channels()];
                ImageFiles.Decoded d = new ImageFiles.Decoded(set.height(), set.width(), m.channels(), chans);
                System.arraycopy(pipe.pretrain(d, LoaderSource.sampleStream(rng, i)), 0, px, (i - from) * pipe.imageSize(), pipe.imageSize());
            }
            return new Batch.Images(to - from, m.size(), m.size(), m.channels(), px);
        }, "IDX images " + set.height() + "x" + set.width() + " resampled to " + m.size() + "x" + m.size() + "x" + m.channels() + ", " + set.count() + " examples");
    }

    /** Image files, decoded when their batch is built: fairseq's pretraining pipeline ({@link ImagePipeline}). */
    public static BatchSource imageFolder(ImageFolder folder, ModalityConfig.Image m, int batch, long seed) {
        if (folder.size() < batch) {
            throw new IllegalArgumentException(folder.root() + ": " + folder.size() + " images, fewer than one batch of " + batch);
        }
        ImagePipeline pipe = new ImagePipeline(m.size(), m.channels());
        return new LoaderSource(folder.size(), batch, seed, (idx, from, to, rng) -> {
            float[] px = new float[(to - from) * pipe.imageSize()];
            for (int i = from; i < to; i++) {
                ImageFiles.Decoded d = ImageFiles.read(folder.files().get(idx[i]), m.channels());
                System.arraycopy(pipe.pretrain(d, LoaderSource.sampleStream(rng, i)), 0, px, (i - from) * pipe.imageSize(), pipe.imageSize());
            }
            return new Batch.Images(to - from, m.size(), m.size(), m.channels(), px);
        }, folder.size() + " image files of " + folder.root() + " -> " + m.size() + "x" + m.size() + "x" + m.channels()
                + " (random resized crop, flip, ImageNet normalisation)");
    }

    // ---- audio ----------------------------------------------------------------------------------

    private static AudioIndex installedSpeech(Path root) throws IOException {
        List<Wav.Info> clips = new ArrayList<>();
        for (SpeechClip c : SpeechSets.pretrainClips(root)) clips.add(Wav.info(c.file()));
        return new AudioIndex(clips, new int[clips.size()], List.of(""), "speech pretraining clips");
    }

    /** The installed speech clips with fairseq's batching (see {@link #audio(AudioIndex, ModalityConfig.Audio, int, long)}). */
    public static BatchSource audio(List<SpeechClip> clips, ModalityConfig.Audio m, int batch, long seed) throws IOException {
        List<Wav.Info> infos = new ArrayList<>();
        for (SpeechClip c : clips) infos.add(Wav.info(c.file()));
        return audio(new AudioIndex(infos, new int[infos.size()], List.of(""), "speech clips"), m, batch, seed);
    }

    /**
     * Raw audio as fairseq's audio_pretraining task batches it (RawAudioDataset with pad=False):
     * clips under {@code min_sample_size} are skipped; the rest are bucketed by length
     * ({@link LengthBuckets}, at most max_tokens = batch × max_sample_size samples per batch); in
     * a batch every clip is cropped, at a random offset, to the batch's shortest clip (and to at
     * most {@code max_sample_size}). Each clip is normalised to zero mean and unit variance over
     * the whole recording before the crop ({@code normalize: true}); recordings longer than twice
     * max_sample_size are read only where the crop falls, and normalised over the crop.
     */
    public static BatchSource audio(AudioIndex index, ModalityConfig.Audio m, int batch, long seed) {
        int min = m.minSampleSize(), max = m.maxSampleSize();
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < index.size(); i++) if (index.samples(i) >= min) kept.add(i);
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("none of the " + index.size() + " " + index.what() + " has at least min_sample_size " + min
                    + " samples (" + min / (double) Wav.RATE + " s)");
        }
        long[] lengths = new long[kept.size()];
        for (int i = 0; i < lengths.length; i++) lengths[i] = Math.min(index.samples(kept.get(i)), max);
        long maxTokens = m.maxTokens(batch);
        LengthBuckets plan = new LengthBuckets(lengths, maxTokens, seed);
        String what = kept.size() + " of " + index.size() + " " + index.what() + " (>= " + min + " samples; "
                + (index.size() - kept.size()) + " shorter skipped), " + plan.batchesPerEpoch() + " batches of <= " + maxTokens + " samples";
        return new LoaderSource(plan, seed, (idx, from, to, rng) -> {
            long target = Long.MAX_VALUE;
            for (int k : idx) target = Math.min(target, lengths[k]); // the whole global batch's shortest, on every rank
            int n = (int) target;
            float[] out = new float[(to - from) * n];
            for (int i = from; i < to; i++) {
                Wav.Info clip = index.clips().get(kept.get(idx[i]));
                long len = clip.samples();
                int start = LoaderSource.sampleStream(rng, i).nextInt((int) Math.min(Integer.MAX_VALUE, len - n + 1));
                float[] crop;
                if (len <= 2L * max) {
                    float[] whole = Waveforms.normalize(Wav.read(clip.file(), clip, 0, (int) len));
                    crop = new float[n];
                    System.arraycopy(whole, start, crop, 0, n);
                } else {
                    crop = Waveforms.normalize(Wav.read(clip.file(), clip, start, n));
                }
                System.arraycopy(crop, 0, out, (i - from) * n, n);
            }
            return new Batch.Audio(to - from, n, out);
        }, what, null, null);
    }

    /** Every clip's samples (16 kHz mono WAV, else an error naming the file). */
    public static List<float[]> readClips(List<SpeechClip> clips) throws IOException {
        List<float[]> out = new ArrayList<>();
        for (SpeechClip c : clips) out.add(Wav.read(c.file()));
        return out;
    }

    /**
     * Clips already in memory, each long enough cropped to the preset's sample count at a random
     * offset and normalised (the demo's fixed-length batches; shorter clips are skipped).
     */
    public static BatchSource waves(List<float[]> clips, ModalityConfig.Audio m, int batch, long seed) {
        List<float[]> waves = new ArrayList<>();
        for (float[] w : clips) if (w.length >= m.samples()) waves.add(w);
        if (waves.size() < batch) {
            throw new IllegalArgumentException("only " + waves.size() + " of " + clips.size() + " speech clips have at least "
                    + m.samples() + " samples; need " + batch + " for one batch");
        }
        int n = m.samples();
        return new LoaderSource(waves.size(), batch, seed, (idx, from, to, rng) -> {
            float[] out = new float[(to - from) * n];
            for (int i = from; i < to; i++) {
                float[] crop = Waveforms.normalize(Waveforms.randomCrop(waves.get(idx[i]), n, LoaderSource.sampleStream(rng, i)));
                System.arraycopy(crop, 0, out, (i - from) * n, n);
            }
            return new Batch.Audio(to - from, n, out);
        }, "speech clips, " + waves.size() + " of at least " + n + " samples");
    }

    // ---- text -----------------------------------------------------------------------------------

    /**
     * A corpus tokenized once, streaming, into a temporary token file ({@link TokenFile}: every
     * document followed by {@code </s>}), then cut into blocks of length − 1 tokens each starting
     * with {@code <s>} (docs/algorithm.md §3.3, sample_break_mode none) and read back by the prefetch thread.
     * The tokenizer is saved into the run folder ({@link BatchSource#saveRunFiles}).
     */
    public static BatchSource text(TextCorpus corpus, Tokenizer tok, ModalityConfig.Text m, int batch, long seed) throws IOException {
        if (tok.vocabSize() > m.vocab()) {
            throw new IllegalArgumentException("the tokenizer (" + tok.describe() + ") has " + tok.vocabSize() + " ids but the preset's vocabulary is " + m.vocab());
        }
        TokenFile tokens = TokenFile.write(corpus, tok);
        int per = m.length() - 1;
        long blocks = tokens.tokens() / per;
        if (blocks < batch) {
            tokens.close();
            throw new DataFormatException(corpus.files().get(0), "the corpus gives " + tokens.tokens() + " tokens, " + blocks
                    + " blocks of " + m.length() + ", fewer than a batch of " + batch);
        }
        if (blocks > Integer.MAX_VALUE) {
            tokens.close();
            throw new IllegalArgumentException("the corpus gives " + blocks + " blocks, more than this loader indexes");
        }
        return new LoaderSource(BatchPlan.shuffled((int) blocks, batch, seed), seed, (idx, from, to, rng) -> {
            int[] out = new int[(to - from) * m.length()];
            for (int i = from; i < to; i++) {
                out[(i - from) * m.length()] = Tokenizer.BOS;
                System.arraycopy(tokens.read((long) idx[i] * per, per), 0, out, (i - from) * m.length() + 1, per);
            }
            return new Batch.Text(to - from, m.length(), out);
        }, corpus.describe() + ", " + tokens.tokens() + " tokens (" + tok.describe() + "), " + blocks + " blocks of " + m.length(),
                tokens, tok::saveTo);
    }

    /**
     * Documents in memory, encoded and joined with {@code </s>}, then cut into blocks of length − 1
     * tokens, each starting with {@code <s>} ({@link TokenBlocks}, docs/algorithm.md §3.3).
     */
    public static BatchSource text(List<Document> docs, Tokenizer bpe, ModalityConfig.Text m, int batch, long seed) {
        if (bpe.vocabSize() > m.vocab()) {
            throw new IllegalArgumentException("the tokenizer has " + bpe.vocabSize() + " ids but the preset's vocabulary is " + m.vocab());
        }
        List<String> texts = new ArrayList<>();
        for (Document d : docs) texts.add(d.text());
        return blocks(TokenBlocks.of(bpe, texts, m.length()), m, batch, seed);
    }

    /** {@link #text} over blocks already cut (each {@code m.length()} ids). */
    public static BatchSource blocks(List<int[]> blocks, ModalityConfig.Text m, int batch, long seed) {
        if (blocks.size() < batch) throw new IllegalArgumentException("the text corpus gives " + blocks.size() + " blocks, fewer than a batch of " + batch);
        return new LoaderSource(blocks.size(), batch, seed, (idx, from, to, rng) -> {
            int[] out = new int[(to - from) * m.length()];
            for (int i = from; i < to; i++) System.arraycopy(blocks.get(idx[i]), 0, out, (i - from) * m.length(), m.length());
            return new Batch.Text(to - from, m.length(), out);
        }, "text corpus, " + blocks.size() + " blocks of " + m.length() + " tokens");
    }
}
