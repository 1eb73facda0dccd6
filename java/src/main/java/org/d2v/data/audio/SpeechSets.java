package org.d2v.data.audio;

import org.d2v.data.DataDir;
import org.d2v.data.DataFormatException;
import org.d2v.data.Split;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The speech sets as installed by {@code d2v data install --sets speech}:
 * <ul>
 * <li>{@code speech/pretrain/index.tsv}: file, source (ktuberling / klettres), language; real
 *     recordings converted to 16 kHz mono 16-bit WAV.</li>
 * <li>{@code speech/digits/index.tsv}: file, digit, engine, voice, prosody; spoken digits
 *     synthesized with espeak-ng and flite.</li>
 * </ul>
 * Paths in the indexes are relative to the folder of the index.
 */
public final class SpeechSets {
    public static final String SET = "speech";

    /**
     * Voices held out by {@link #heldOutVoices}: a whole espeak accent (all its variants) and a whole
     * flite voice. Within-voice random splits are trivially easy (DATA.md), so the probe must meet
     * speakers it never saw in training.
     */
    public static final Set<String> DEFAULT_TEST_VOICES_PREFIXES = Set.of("espeak/en-gb-scotland+", "flite/slt");

    private SpeechSets() {}

    public static List<SpeechClip> pretrainClips(Path dataRoot) throws IOException {
        Path index = DataDir.of(dataRoot, SET).resolve("pretrain/index.tsv");
        List<SpeechClip> out = new ArrayList<>();
        for (String[] f : rows(index, 3)) out.add(new SpeechClip(index.getParent().resolve(f[0]), f[1], f[2]));
        return out;
    }

    public static List<SpokenDigit> spokenDigits(Path dataRoot) throws IOException {
        return readDigitIndex(DataDir.of(dataRoot, SET).resolve("digits/index.tsv"));
    }

    /** Reads a digits index (file, digit, engine, voice, prosody per line). */
    public static List<SpokenDigit> readDigitIndex(Path index) throws IOException {
        List<SpokenDigit> out = new ArrayList<>();
        int line = 0;
        for (String[] f : rows(index, 5)) {
            line++;
            int digit;
            try {
                digit = Integer.parseInt(f[1]);
            } catch (NumberFormatException e) {
                throw new DataFormatException(index, "row " + line + ": digit '" + f[1] + "' is not a number");
            }
            if (digit < 0 || digit > 9) throw new DataFormatException(index, "row " + line + ": digit " + digit + " outside 0..9");
            out.add(new SpokenDigit(index.getParent().resolve(f[0]), digit, f[2], f[3], f[4]));
        }
        return out;
    }

    /** Test = every clip whose voice starts with one of {@code testVoicePrefixes}; train = the rest. */
    public static Split<SpokenDigit> heldOutVoices(List<SpokenDigit> clips, Set<String> testVoicePrefixes) {
        return Split.by(clips, c -> testVoicePrefixes.stream().anyMatch(c.voice()::startsWith));
    }

    /** The default held-out-voices split ({@link #DEFAULT_TEST_VOICES_PREFIXES}). */
    public static Split<SpokenDigit> heldOutVoices(List<SpokenDigit> clips) {
        return heldOutVoices(clips, DEFAULT_TEST_VOICES_PREFIXES);
    }

    private static List<String[]> rows(Path index, int columns) throws IOException {
        if (!Files.isRegularFile(index)) throw new DataFormatException(index, "no such index file; run: d2v data install --sets speech");
        List<String[]> out = new ArrayList<>();
        int line = 0;
        for (String s : Files.readAllLines(index, StandardCharsets.UTF_8)) {
            line++;
            if (s.isBlank() || s.startsWith("#")) continue;
            String[] f = s.split("\t", -1);
            if (f.length != columns) throw new DataFormatException(index, "line " + line + ": " + f.length + " columns, expected " + columns);
            out.add(f);
        }
        if (out.isEmpty()) throw new DataFormatException(index, "empty index");
        return out;
    }
}
