package org.d2v.data.audio;

import org.d2v.data.DataDir;
import org.d2v.data.DataFormatException;
import org.d2v.data.ListedPath;
import org.d2v.data.Split;
import org.d2v.data.text.Utf8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

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
     * Voice groups held out by {@link #heldOutVoices}: espeak's klatt variant in every accent (a
     * different synthesis method) and the flite voice slt. Within-voice random splits are
     * trivially easy (docs/data.md), and so is holding out an espeak accent or most espeak variants
     * (raw log-spectra already score 0.83 to 1.0 there, because the same timbre is in training
     * under another accent); these two groups are the hard ones (about 0.4 with raw features).
     */
    public static final List<String> DEFAULT_TEST_GROUPS = List.of("+klatt", "flite/slt");

    /**
     * Whether {@code voice} ("espeak/en-us+m3", "flite/slt") is in {@code group}: a group starting
     * with "+" is a variant in every accent ("+f4"); otherwise it is a prefix ("espeak/en-029+"
     * for an accent, "flite/slt" for one voice).
     */
    public static boolean inGroup(String voice, String group) {
        return group.startsWith("+") ? voice.endsWith(group) : voice.startsWith(group);
    }

    private SpeechSets() {}

    public static List<SpeechClip> pretrainClips(Path dataRoot) throws IOException {
        Path index = DataDir.of(dataRoot, SET).resolve("pretrain/index.tsv");
        List<SpeechClip> out = new ArrayList<>();
        for (String[] f : rows(index, 3)) out.add(new SpeechClip(Path.of(f[0]), f[1], f[2]));
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
            out.add(new SpokenDigit(Path.of(f[0]), digit, f[2], f[3], f[4]));
        }
        return out;
    }

    /** Whether a clip's voice is in one of {@code groups} (see {@link #inGroup}). */
    public static Predicate<SpokenDigit> inGroups(List<String> groups) {
        return c -> groups.stream().anyMatch(g -> inGroup(c.voice(), g));
    }

    /** Test = every clip whose voice is in one of {@code testGroups} (see {@link #inGroup}); train = the rest. */
    public static Split<SpokenDigit> heldOutVoices(List<SpokenDigit> clips, List<String> testGroups) {
        return Split.by(clips, inGroups(testGroups));
    }

    /** The default held-out-voices split ({@link #DEFAULT_TEST_GROUPS}). */
    public static Split<SpokenDigit> heldOutVoices(List<SpokenDigit> clips) {
        return heldOutVoices(clips, DEFAULT_TEST_GROUPS);
    }

    private static List<String[]> rows(Path index, int columns) throws IOException {
        if (!Files.isRegularFile(index)) throw new DataFormatException(index, "no such index file; run: d2v data install --sets speech");
        List<String[]> out = new ArrayList<>();
        int line = 0;
        for (String s : Utf8.readLines(index)) {
            line++;
            if (s.isBlank() || s.startsWith("#")) continue;
            String[] f = s.split("\t", -1);
            if (f.length != columns) throw new DataFormatException(index, "line " + line + ": " + f.length + " columns, expected " + columns);
            f[0] = ListedPath.resolve(index.getParent(), f[0], index, line).toString(); // a name no file can have is refused here, with its line
            out.add(f);
        }
        if (out.isEmpty()) throw new DataFormatException(index, "empty index");
        return out;
    }
}
