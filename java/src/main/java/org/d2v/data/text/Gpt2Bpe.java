package org.d2v.data.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.d2v.data.DataFormatException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The GPT-2 byte-level BPE that RoBERTa and fairseq's text models use, read from a folder with
 * {@code vocab.json} (token → GPT-2 id) and {@code merges.txt} (merge rules, highest priority
 * first), and fairseq's {@code dict.txt} when present.
 *
 * <p>Encoding, as GPT-2's encoder does it: the text is cut by GPT-2's pattern (contractions,
 * letters, digits, other symbols, each with one optional leading space; white space), each
 * piece's UTF-8 bytes are written with GPT-2's byte-to-character table, and adjacent symbols are
 * merged by the lowest-ranked merge rule until none applies. No prefix space is added.
 *
 * <p>Ids, as fairseq's RoBERTa sees them: with {@code dict.txt} (one "gpt2-id count" per line,
 * in fairseq's order) id = 4 + the line of the GPT-2 id, {@code <s> <pad> </s> <unk>} at 0..3,
 * a GPT-2 id missing from dict.txt becomes {@code <unk>}, and {@code <mask>} follows the last line
 * (so RoBERTa's 50,260 lines give text-base's 50,265 ids). Without dict.txt, vocab.json must
 * itself put {@code <s> <pad> </s> <unk>} at 0..3 (HuggingFace's RoBERTa layout), and its ids are
 * used as they are.
 */
public final class Gpt2Bpe implements Tokenizer {
    public static final String VOCAB = "vocab.json", MERGES = "merges.txt", DICT = "dict.txt";
    /** Ids (and merges, and dict.txt lines) a tokenizer folder may have: GPT-2 has 50,257, the largest common vocabularies about 260,000. */
    public static final int MAX_IDS = 1 << 20;
    /** Bytes each of the three files may have (GPT-2's vocab.json is 1 MB, merges.txt 0.5 MB). */
    public static final long MAX_FILE_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    private static final Pattern PIECES = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private final Path dir;
    private final Map<String, Integer> vocab;
    private final String[] tokenOf; // GPT-2 id -> token string
    private final Map<String, Integer> ranks;
    private final int[] fairseqOf;  // GPT-2 id -> fairseq id (null: identity)
    private final int[] gpt2Of;     // fairseq id -> GPT-2 id (-1: special or unused)
    private final int vocabSize;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private static final char[] BYTE_TO_CHAR = byteToChar();
    private static final int[] CHAR_TO_BYTE = charToByte();

    private Gpt2Bpe(Path dir, Map<String, Integer> vocab, Map<String, Integer> ranks, int[] fairseqOf, int[] gpt2Of, int vocabSize) {
        this.dir = dir;
        this.vocab = vocab;
        this.ranks = ranks;
        this.fairseqOf = fairseqOf;
        this.gpt2Of = gpt2Of;
        this.vocabSize = vocabSize;
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        tokenOf = new String[max + 1];
        vocab.forEach((t, id) -> tokenOf[id] = t);
    }

    /** Whether {@code dir} holds vocab.json and merges.txt. */
    public static boolean isGpt2Folder(Path dir) {
        return Files.isRegularFile(dir.resolve(VOCAB)) && Files.isRegularFile(dir.resolve(MERGES));
    }

    public static Gpt2Bpe load(Path dir) throws IOException {
        if (!isGpt2Folder(dir)) throw new DataFormatException(dir, "not a GPT-2 BPE folder: needs " + VOCAB + " and " + MERGES + " (and fairseq's " + DICT + ")");
        Path vf = dir.resolve(VOCAB);
        Map<String, Integer> vocab;
        try {
            vocab = JSON.readValue(Utf8.read(checkSize(vf)), new TypeReference<Map<String, Integer>>() {});
        } catch (JsonProcessingException e) {
            throw new DataFormatException(vf, "not a JSON object of token -> id: " + e.getOriginalMessage());
        }
        if (vocab == null || vocab.isEmpty()) throw new DataFormatException(vf, "empty vocabulary");
        if (vocab.size() > MAX_IDS) throw new DataFormatException(vf, vocab.size() + " tokens, more than the " + MAX_IDS + " d2v reads");
        Map<Integer, String> byId = new HashMap<>();
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            Integer id = e.getValue();
            if (id == null || id < 0 || id >= MAX_IDS) {
                throw new DataFormatException(vf, "token '" + e.getKey() + "' has id " + id + "; ids are 0 to " + (MAX_IDS - 1));
            }
            String other = byId.put(id, e.getKey());
            if (other != null) throw new DataFormatException(vf, "tokens '" + other + "' and '" + e.getKey() + "' both have id " + id);
        }
        Map<String, Integer> ranks = new HashMap<>();
        Path mf = dir.resolve(MERGES);
        List<String> lines = Utf8.readLines(checkSize(mf));
        if (lines.size() > MAX_IDS + 1) throw new DataFormatException(mf, lines.size() + " lines, more than the " + MAX_IDS + " merges d2v reads");
        for (int i = 0; i < lines.size(); i++) {
            String s = lines.get(i);
            if (s.isEmpty() || (i == 0 && s.startsWith("#version"))) continue;
            String[] f = s.split(" ");
            if (f.length != 2) throw new DataFormatException(mf, "line " + (i + 1) + ": expected two symbols separated by one space, got '" + s + "'");
            ranks.putIfAbsent(f[0] + " " + f[1], ranks.size());
        }
        Path df = dir.resolve(DICT);
        int maxGpt2 = vocab.values().stream().mapToInt(Integer::intValue).max().getAsInt();
        if (Files.isRegularFile(df)) {
            int[] fairseqOf = new int[maxGpt2 + 1];
            Arrays.fill(fairseqOf, UNK);
            List<String> d = Utf8.readLines(checkSize(df));
            if (d.size() > MAX_IDS) throw new DataFormatException(df, d.size() + " lines, more than the " + MAX_IDS + " ids d2v reads");
            List<Integer> gpt2 = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) {
                String s = d.get(i).strip();
                if (s.isEmpty()) continue;
                if (s.endsWith("#fairseq:overwrite")) s = s.substring(0, s.length() - "#fairseq:overwrite".length()).strip();
                int sp = s.lastIndexOf(' ');
                if (sp < 1) throw new DataFormatException(df, "line " + (i + 1) + ": expected '<symbol> <count>', got '" + d.get(i) + "'");
                try {
                    Long.parseLong(s.substring(sp + 1));
                } catch (NumberFormatException e) {
                    throw new DataFormatException(df, "line " + (i + 1) + ": count '" + s.substring(sp + 1) + "' is not a number");
                }
                String sym = s.substring(0, sp);
                int fid = 4 + gpt2.size();
                int g = -1;
                if (sym.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    // Digits only, but possibly more than an int holds: a symbol that big is no id of vocab.json.
                    g = sym.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(sym);
                    if (g > maxGpt2) throw new DataFormatException(df, "line " + (i + 1) + ": GPT-2 id " + sym + " is not in " + vf);
                    fairseqOf[g] = fid;
                }
                gpt2.add(g); // non-numeric symbols (fairseq's madeupword fillers) take an id but are never produced
            }
            if (gpt2.isEmpty()) throw new DataFormatException(df, "empty dictionary");
            int size = 4 + gpt2.size() + 1; // + <mask>, which fairseq's masked LM adds after the dictionary
            int[] gpt2Of = new int[size];
            Arrays.fill(gpt2Of, -1);
            for (int i = 0; i < gpt2.size(); i++) gpt2Of[4 + i] = gpt2.get(i);
            return new Gpt2Bpe(dir, vocab, ranks, fairseqOf, gpt2Of, size);
        }
        String[] specials = {"<s>", "<pad>", "</s>", "<unk>"};
        for (int i = 0; i < 4; i++) {
            if (!Integer.valueOf(i).equals(vocab.get(specials[i]))) {
                throw new DataFormatException(dir, "no " + DICT + " (fairseq's id mapping), and " + VOCAB + " does not put " + specials[i]
                        + " at id " + i + " as RoBERTa's does; add fairseq's dict.txt");
            }
        }
        return new Gpt2Bpe(dir, vocab, ranks, null, null, maxGpt2 + 1);
    }

    private static Path checkSize(Path file) throws IOException {
        if (Files.isRegularFile(file) && Files.size(file) > MAX_FILE_BYTES) {
            throw new DataFormatException(file, Files.size(file) + " bytes: larger than the " + MAX_FILE_BYTES + " a tokenizer file may have");
        }
        return file;
    }

    @Override public int vocabSize() { return vocabSize; }

    @Override
    public String describe() {
        return "GPT-2 byte-level BPE of " + dir + " (" + ranks.size() + " merges, " + vocabSize + " ids" + (fairseqOf != null ? ", fairseq dict.txt" : "") + ")";
    }

    @Override
    public void saveTo(Path runDir) throws IOException {
        Path to = Files.createDirectories(runDir.resolve(Tokenizers.GPT2_DIR));
        for (String f : new String[] {VOCAB, MERGES, DICT}) {
            if (Files.isRegularFile(dir.resolve(f))) Files.copy(dir.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public int[] encode(String text) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        Matcher m = PIECES.matcher(text);
        while (m.find()) {
            int[] ids = cache.computeIfAbsent(m.group(), this::encodePiece);
            parts.add(ids);
            total += ids.length;
        }
        if (cache.size() > 200_000) cache.clear(); // bounded memory on long corpora
        int[] out = new int[total];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private int[] encodePiece(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(bytes.length);
        for (byte b : bytes) symbols.add(String.valueOf(BYTE_TO_CHAR[b & 0xFF]));
        while (symbols.size() > 1) {
            int best = Integer.MAX_VALUE;
            String bestPair = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                String pair = symbols.get(i) + " " + symbols.get(i + 1);
                Integer r = ranks.get(pair);
                if (r != null && r < best) {
                    best = r;
                    bestPair = pair;
                }
            }
            if (bestPair == null) break;
            String left = bestPair.substring(0, bestPair.indexOf(' ')), right = bestPair.substring(bestPair.indexOf(' ') + 1);
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(left) && symbols.get(i + 1).equals(right)) {
                    merged.add(left + right);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer g = vocab.get(symbols.get(i));
            // Every single byte is in a GPT-2 vocabulary; a custom one without it maps to <unk>.
            ids[i] = g == null ? UNK : fairseqOf == null ? g : fairseqOf[g];
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) throw new IllegalArgumentException("token id " + id + " outside [0, " + vocabSize + ")");
            int g = gpt2Of == null ? id : gpt2Of[id];
            if (g < 0 || (gpt2Of == null && id < 4) || g >= tokenOf.length || tokenOf[g] == null) continue;
            for (char c : tokenOf[g].toCharArray()) if (c < CHAR_TO_BYTE.length && CHAR_TO_BYTE[c] >= 0) out.write(CHAR_TO_BYTE[c]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** GPT-2's table: printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards, in byte order. */
    private static char[] byteToChar() {
        char[] t = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            t[b] = printable ? (char) b : (char) next++;
        }
        return t;
    }

    private static int[] charToByte() {
        int[] t = new int[512];
        Arrays.fill(t, -1);
        char[] f = byteToChar();
        for (int b = 0; b < 256; b++) t[f[b]] = b;
        return t;
    }
}
