package org.d2v.data2vec.config;

import java.util.List;

/** The modality-specific local encoder and positions (docs/algorithm.md §3). */
public sealed interface ModalityConfig {
    /** The number of tokens T the local encoder makes from one input of this configuration. */
    int tokens();

    /** "image", "audio" or "text" (the word of the CLI and of checkpoint manifests). */
    default String kind() {
        return this instanceof Image ? "image" : this instanceof Audio ? "audio" : "text";
    }

    /**
     * Images (§3.1): a patch conv (stride = patch) over [size, size, channels], fixed 2-D sin-cos
     * positions added before masking, {@code extraTokens} learned CLS tokens prepended after it.
     */
    record Image(int size, int channels, int patch, int extraTokens) implements ModalityConfig {
        public Image {
            if (size < 1 || patch < 1 || size % patch != 0) throw new IllegalArgumentException("image size " + size + " is not a multiple of patch " + patch);
            if (channels < 1 || extraTokens < 0 || extraTokens > 1) throw new IllegalArgumentException("image needs channels ≥ 1 and 0 or 1 extra (CLS) token");
        }

        public int grid() { return size / patch; }

        @Override public int tokens() { return grid() * grid(); }
    }

    /** One layer of the audio conv stem: (channels, kernel, stride), docs/algorithm.md §3.2. */
    record ConvLayer(int channels, int kernel, int stride) {}

    /**
     * Audio (§3.2): waveform of {@code samples} at 16 kHz, normalised per utterance, the conv stem
     * (conv without bias → LN over channels → GELU per layer), LN + Linear to the model dim, a
     * conv positional encoder of {@code convPosDepth} layers with kernel
     * max(3, convPosWidth / convPosDepth) and {@code convPosGroups} groups, ALiBi with a learned
     * per-head scale.
     *
     * <p>Data keys (fairseq's audio_pretraining task): {@code samples} is {@code max_sample_size}
     * (longer clips are randomly cropped to it; with {@code batchSize} it sets fairseq's
     * {@code max_tokens} = batch × max_sample_size, the total samples a batch may hold) and
     * {@code minSampleSize} is {@code min_sample_size} (shorter clips are skipped).
     */
    record Audio(int samples, List<ConvLayer> stem, int convPosDepth, int convPosWidth, int convPosGroups,
                 double alibiScaleInit, int minSampleSize) implements ModalityConfig {
        /** With {@code min_sample_size} = a quarter of {@code max_sample_size}. */
        public Audio(int samples, List<ConvLayer> stem, int convPosDepth, int convPosWidth, int convPosGroups, double alibiScaleInit) {
            this(samples, stem, convPosDepth, convPosWidth, convPosGroups, alibiScaleInit, samples / 4);
        }

        public Audio {
            stem = List.copyOf(stem);
            if (stem.isEmpty()) throw new IllegalArgumentException("audio conv stem is empty");
            if (convPosDepth < 1) throw new IllegalArgumentException("audio needs convPosDepth ≥ 1");
            if (convPosKernel(convPosDepth, convPosWidth) % 2 == 0) {
                throw new IllegalArgumentException("audio conv positional kernel " + convPosKernel(convPosDepth, convPosWidth) + " must be odd (same padding)");
            }
            int t = samples;
            for (ConvLayer l : stem) t = (t - l.kernel()) / l.stride() + 1;
            if (t < 2) throw new IllegalArgumentException(samples + " samples give " + t + " frames through the conv stem");
            if (minSampleSize < 1 || minSampleSize > samples) {
                throw new IllegalArgumentException("min_sample_size " + minSampleSize + " must be in [1, max_sample_size " + samples + "]");
            }
        }

        /** fairseq's {@code max_sample_size}. */
        public int maxSampleSize() { return samples; }

        /** fairseq's {@code max_tokens} for a batch of {@code batchSize} clips of {@code max_sample_size}. */
        public long maxTokens(int batchSize) { return (long) batchSize * samples; }

        private static int convPosKernel(int depth, int width) { return Math.max(3, width / depth); }

        public int convPosKernel() { return convPosKernel(convPosDepth, convPosWidth); }

        /** Frames after the stem (no padding, as wav2vec's stem). */
        public int framesFor(int samples) {
            int t = samples;
            for (ConvLayer l : stem) t = (t - l.kernel()) / l.stride() + 1;
            return t;
        }

        @Override public int tokens() { return framesFor(samples); }
    }

    /**
     * Text (§3.3): token embedding (no √D scale) + learned positions, LN, dropout. {@code padIndex}
     * is the padding id whose embedding row starts at zero (−1: none). {@code teacherInput} is what
     * the teacher's blocks read (docs/algorithm.md §5; key {@code teacher-input}). {@code positionOffsets}
     * (key {@code position-offsets}; off in every preset, as in fairseq): in training each block starts at
     * a random row of the position table and wraps around it, so that a token's row says nothing about
     * where in its block it sits (docs/results/text-experiments.md §8); evaluation starts at the first row.
     */
    record Text(int length, int vocab, int maxPositions, int padIndex, double dropout, TeacherInput teacherInput,
                boolean positionOffsets) implements ModalityConfig {
        /** With fairseq's teacher input ({@link TeacherInput#STUDENT}) and positions. */
        public Text(int length, int vocab, int maxPositions, int padIndex, double dropout) {
            this(length, vocab, maxPositions, padIndex, dropout, TeacherInput.STUDENT);
        }

        /** With fairseq's positions: every block starts at the first row. */
        public Text(int length, int vocab, int maxPositions, int padIndex, double dropout, TeacherInput teacherInput) {
            this(length, vocab, maxPositions, padIndex, dropout, teacherInput, false);
        }

        public Text {
            if (length < 1 || length > maxPositions) throw new IllegalArgumentException("text length " + length + " must be in [1, maxPositions=" + maxPositions + "]");
            if (vocab < 2 || padIndex >= vocab) throw new IllegalArgumentException("bad text vocabulary " + vocab + " / pad " + padIndex);
            if (teacherInput == null) throw new IllegalArgumentException("text teacher input is null (student, tokens or ema)");
        }

        public Text withTeacherInput(TeacherInput t) { return new Text(length, vocab, maxPositions, padIndex, dropout, t, positionOffsets); }

        /** The same with {@code maxPositions} rows in the position table (key {@code positions}). */
        public Text withMaxPositions(int rows) { return new Text(length, vocab, rows, padIndex, dropout, teacherInput, positionOffsets); }

        public Text withPositionOffsets(boolean on) { return new Text(length, vocab, maxPositions, padIndex, dropout, teacherInput, on); }

        @Override public int tokens() { return length; }
    }

    /**
     * What the text teacher's blocks read (docs/algorithm.md §5). {@code STUDENT}: the student's local
     * features LN(tokens + positions) with its dropout, detached (fairseq, {@code ema_encoder_only}).
     * {@code TOKENS}: LN(token embedding) of the student's table and LN, without the position table and
     * without dropout, detached: the teacher sees no order, so its targets cannot be positional
     * (docs/results/text-experiments.md). {@code EMA}: the teacher's own EMA copy of the text local
     * encoder (embeddings, positions, LN; fairseq's {@code ema_encoder_only = false}) on the unmasked
     * tokens, so the student's changes to them reach the teacher at the EMA's pace.
     */
    enum TeacherInput {
        STUDENT, TOKENS, EMA;

        /** The config word ("student", "tokens", "ema"). */
        public String word() { return name().toLowerCase(java.util.Locale.ROOT); }

        public static TeacherInput parse(String word) {
            for (TeacherInput t : values()) if (t.word().equals(word)) return t;
            throw new IllegalArgumentException("teacher-input must be student, tokens or ema, got '" + word + "'");
        }
    }
}
