package org.d2v.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.d2v.data.audio.SpeechClip;
import org.d2v.data.audio.SpeechSets;
import org.d2v.data.audio.Wav;
import org.d2v.data.audio.Waveforms;
import org.d2v.data.image.ImageAugmenter;
import org.d2v.data.image.ImageSets;
import org.d2v.data.image.Images;
import org.d2v.data.image.Split;
import org.d2v.data.text.BpeTokenizer;
import org.d2v.data.text.Document;
import org.d2v.data.text.TextSets;
import org.d2v.data.text.TokenBlocks;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;

/**
 * Opens the {@link BatchSource} that {@code --data} names for a configuration: synthetic signals
 * ("generated") or the sets that {@code d2v data install} put in a data folder (Fashion-MNIST
 * train images, the speech pretraining clips, the text corpus with its BPE tokenizer).
 */
public final class TrainingData {
    public static final String GENERATED = "generated";

    private TrainingData() {}

    /** {@code data} is "generated" or a data folder; batches have {@code config.batchSize()} samples shaped for its modality. */
    public static BatchSource open(String data, Data2VecConfig config, long seed) throws IOException {
        int b = config.batchSize();
        ModalityConfig m = config.modality();
        if (GENERATED.equals(data)) {
            if (m instanceof ModalityConfig.Image img) return GeneratedSource.images(b, img.size(), img.channels(), seed);
            if (m instanceof ModalityConfig.Audio audio) return GeneratedSource.audio(b, audio.samples(), seed);
            ModalityConfig.Text text = (ModalityConfig.Text) m;
            return GeneratedSource.text(b, text.length(), text.vocab(), seed);
        }
        Path root = Path.of(data);
        if (!Files.isDirectory(root)) throw new IllegalArgumentException("--data " + data + ": no such folder (or use --data generated)");
        if (m instanceof ModalityConfig.Image img) return images(ImageSets.fashionMnist(root, Split.TRAIN).images(), img, b, seed);
        if (m instanceof ModalityConfig.Audio audio) return audio(SpeechSets.pretrainClips(root), audio, b, seed);
        return text(TextSets.pretrainCorpus(root), TextSets.tokenizer(root), (ModalityConfig.Text) m, b, seed);
    }

    /**
     * Images for pretraining: random resized crop + flip (spec §8), then standardised with the
     * set's own mean and standard deviation (the reference uses ImageNet's; ours is not ImageNet).
     */
    public static BatchSource images(Images set, ModalityConfig.Image m, int batch, long seed) {
        if (set.height() != m.size() || set.width() != m.size() || set.channels() != m.channels()) {
            throw new IllegalArgumentException("the image set is " + set.height() + "x" + set.width() + "x" + set.channels()
                    + " but the preset expects " + m.size() + "x" + m.size() + "x" + m.channels() + " (use the tiny preset, or --data generated)");
        }
        double sum = 0, sum2 = 0;
        for (float v : set.pixels()) { sum += v; sum2 += (double) v * v; }
        double mean = sum / set.pixels().length, std = Math.sqrt(Math.max(1e-12, sum2 / set.pixels().length - mean * mean));
        ImageAugmenter aug = ImageAugmenter.pretraining();
        int per = set.imageSize();
        return new LoaderSource(set.count(), batch, seed, (idx, rng) -> {
            float[] px = new float[idx.length * per];
            for (int i = 0; i < idx.length; i++) {
                float[] one = aug.apply(set.image(idx[i]), set.height(), set.width(), set.channels(), rng);
                for (int k = 0; k < per; k++) px[i * per + k] = (float) ((one[k] - mean) / std);
            }
            return new Batch.Images(idx.length, set.height(), set.width(), set.channels(), px);
        }, "images " + set.height() + "x" + set.width() + "x" + set.channels() + ", " + set.count() + " examples");
    }

    /**
     * Audio for pretraining: each clip long enough is cropped to the preset's sample count at a
     * random offset and normalised to zero mean and unit variance (fairseq's normalize: true), with
     * the data helper's {@link Waveforms}.
     * Shorter clips are skipped, as the reference skips clips under its minimum length.
     */
    public static BatchSource audio(List<SpeechClip> clips, ModalityConfig.Audio m, int batch, long seed) throws IOException {
        return waves(readClips(clips), m, batch, seed);
    }

    /** Every clip's samples (16 kHz mono 16-bit WAV, else an error naming the file). */
    public static List<float[]> readClips(List<SpeechClip> clips) throws IOException {
        List<float[]> out = new ArrayList<>();
        for (SpeechClip c : clips) out.add(Wav.read(c.file()));
        return out;
    }

    /** {@link #audio} over clips already read. */
    public static BatchSource waves(List<float[]> clips, ModalityConfig.Audio m, int batch, long seed) {
        List<float[]> waves = new ArrayList<>();
        for (float[] w : clips) if (w.length >= m.samples()) waves.add(w);
        if (waves.size() < batch) {
            throw new IllegalArgumentException("only " + waves.size() + " of " + clips.size() + " speech clips have at least "
                    + m.samples() + " samples; need " + batch + " for one batch");
        }
        int n = m.samples();
        return new LoaderSource(waves.size(), batch, seed, (idx, rng) -> {
            float[] out = new float[idx.length * n];
            for (int i = 0; i < idx.length; i++) {
                float[] crop = Waveforms.normalize(Waveforms.randomCrop(waves.get(idx[i]), n, rng));
                System.arraycopy(crop, 0, out, i * n, n);
            }
            return new Batch.Audio(idx.length, n, out);
        }, "speech clips, " + waves.size() + " of at least " + n + " samples");
    }

    /**
     * Text for pretraining: every document encoded with the BPE tokenizer and joined with
     * {@code </s>}, then cut into blocks of length − 1 tokens, each starting with {@code <s>}
     * ({@link TokenBlocks}, spec §3.3).
     */
    public static BatchSource text(List<Document> docs, BpeTokenizer bpe, ModalityConfig.Text m, int batch, long seed) {
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
        return new LoaderSource(blocks.size(), batch, seed, (idx, rng) -> {
            int[] out = new int[idx.length * m.length()];
            for (int i = 0; i < idx.length; i++) System.arraycopy(blocks.get(idx[i]), 0, out, i * m.length(), m.length());
            return new Batch.Text(idx.length, m.length(), out);
        }, "text corpus, " + blocks.size() + " blocks of " + m.length() + " tokens");
    }
}
