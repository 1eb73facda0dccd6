package org.d2v.data.text;

import org.d2v.data.DataFormatException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE (the GPT-2 recipe, trained here on our own corpus). Ids: the four specials
 * {@code <s>=0, <pad>=1, </s>=2, <unk>=3} (fairseq's order), then the 256 byte values, then one id
 * per learned merge. Because every byte has an id, any string encodes and decodes back exactly;
 * {@code <unk>} exists for compatibility and is never produced.
 *
 * <p>Text is first cut into chunks (a word with its leading space, a number, a run of
 * punctuation, or white space), and merges never cross chunk borders.
 */
public final class BpeTokenizer implements Tokenizer {
    public static final List<String> SPECIALS = List.of("<s>", "<pad>", "</s>", "<unk>");
    public static final int FIRST_BYTE = SPECIALS.size();
    public static final int FIRST_MERGE = FIRST_BYTE + 256;
    /** Ids a d2v BPE file may declare (GPT-2 has 50,257; our sets use 4,096). */
    public static final int MAX_VOCAB = 1 << 20;
    /** Bytes one token may stand for: merges never make a longer one, and a file asking for one is refused. */
    public static final int MAX_TOKEN_BYTES = 1 << 10;
    private static final String HEADER = "d2v-bpe v1";
    private static final Pattern CHUNK = Pattern.compile(" ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final int[][] merges; // merges[k] = {left, right} makes id FIRST_MERGE + k
    private final Map<Long, Integer> mergeId = new HashMap<>();
    private final byte[][] tokenBytes;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeTokenizer(int[][] merges) {
        this.merges = merges;
        tokenBytes = new byte[FIRST_MERGE + merges.length][];
        for (int i = 0; i < SPECIALS.size(); i++) tokenBytes[i] = new byte[0];
        for (int b = 0; b < 256; b++) tokenBytes[FIRST_BYTE + b] = new byte[] {(byte) b};
        for (int k = 0; k < merges.length; k++) {
            int id = FIRST_MERGE + k;
            mergeId.put(pair(merges[k][0], merges[k][1]), id);
            byte[] l = tokenBytes[merges[k][0]], r = tokenBytes[merges[k][1]];
            byte[] t = Arrays.copyOf(l, l.length + r.length);
            System.arraycopy(r, 0, t, l.length, r.length);
            tokenBytes[id] = t;
        }
    }

    @Override public int vocabSize() { return tokenBytes.length; }

    @Override public String describe() { return "d2v byte-level BPE, " + vocabSize() + " ids"; }

    @Override public void saveTo(Path runDir) throws IOException { save(runDir.resolve(Tokenizers.D2V_FILE)); }

    /** The bytes of a token, as text (may be a partial UTF-8 sequence); specials by name. */
    public String tokenText(int id) {
        return id < FIRST_BYTE ? SPECIALS.get(id) : new String(tokenBytes[id], StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- training

    /**
     * Learns merges until the vocabulary has {@code vocabSize} ids (or no pair occurs twice).
     * Deterministic: ties between equally frequent pairs go to the smaller (left, right) ids.
     */
    public static BpeTokenizer train(Iterable<String> texts, int vocabSize) {
        if (vocabSize < FIRST_MERGE) throw new IllegalArgumentException("vocabSize must be at least " + FIRST_MERGE);
        Map<String, long[]> chunkFreq = new HashMap<>();
        for (String t : texts) {
            Matcher m = CHUNK.matcher(t);
            while (m.find()) chunkFreq.computeIfAbsent(m.group(), k -> new long[1])[0]++;
        }
        List<String> keys = new ArrayList<>(chunkFreq.keySet());
        keys.sort(null); // fixed word order: training does not depend on hash iteration order
        int n = keys.size();
        int[][] words = new int[n][];
        int[] len = new int[n];
        long[] freq = new long[n];
        for (int w = 0; w < n; w++) {
            byte[] b = keys.get(w).getBytes(StandardCharsets.UTF_8);
            words[w] = new int[b.length];
            for (int i = 0; i < b.length; i++) words[w][i] = FIRST_BYTE + (b[i] & 0xFF);
            len[w] = b.length;
            freq[w] = chunkFreq.get(keys.get(w))[0];
        }
        Map<Long, Long> count = new HashMap<>();
        Map<Long, List<Integer>> where = new HashMap<>();
        for (int w = 0; w < n; w++) addPairs(words[w], len[w], freq[w], w, count, where, null);
        // Max-heap of (count, pair) with lazy deletion: an entry is live when its count is current.
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        count.forEach((p, c) -> heap.add(new long[] {c, p}));
        List<int[]> merges = new ArrayList<>();
        List<Integer> tokenLength = new ArrayList<>(); // bytes of id FIRST_MERGE + k
        int[] seen = new int[n];
        Arrays.fill(seen, -1);
        while (FIRST_MERGE + merges.size() < vocabSize && !heap.isEmpty()) {
            long[] top = heap.poll();
            Long current = count.get(top[1]);
            if (current == null || current != top[0]) continue;
            if (top[0] < 2) break;
            int a = (int) (top[1] >>> 32), b = (int) top[1];
            int length = length(a, tokenLength) + length(b, tokenLength);
            if (length > MAX_TOKEN_BYTES) continue; // a run of one character repeated thousands of times: never one token
            int id = FIRST_MERGE + merges.size();
            merges.add(new int[] {a, b});
            tokenLength.add(length);
            java.util.Set<Long> changed = new java.util.HashSet<>();
            for (int w : where.remove(top[1])) {
                if (seen[w] == id) continue;
                seen[w] = id;
                if (!contains(words[w], len[w], a, b)) continue;
                addPairs(words[w], len[w], -freq[w], w, count, null, changed);
                len[w] = mergeInPlace(words[w], len[w], a, b, id);
                addPairs(words[w], len[w], freq[w], w, count, where, changed);
            }
            for (Long p : changed) {
                Long c = count.get(p);
                if (c != null && c > 0) heap.add(new long[] {c, p});
            }
        }
        return new BpeTokenizer(merges.toArray(new int[0][]));
    }

    private static int length(int id, List<Integer> tokenLength) {
        return id < FIRST_MERGE ? 1 : tokenLength.get(id - FIRST_MERGE);
    }

    private static void addPairs(int[] s, int len, long f, int w, Map<Long, Long> count, Map<Long, List<Integer>> where,
                                 java.util.Set<Long> changed) {
        for (int i = 0; i + 1 < len; i++) {
            long p = pair(s[i], s[i + 1]);
            long c = count.merge(p, f, Long::sum);
            if (c == 0) count.remove(p);
            if (where != null) where.computeIfAbsent(p, k -> new ArrayList<>()).add(w);
            if (changed != null) changed.add(p);
        }
    }

    private static boolean contains(int[] s, int len, int a, int b) {
        for (int i = 0; i + 1 < len; i++) if (s[i] == a && s[i + 1] == b) return true;
        return false;
    }

    private static int mergeInPlace(int[] s, int len, int a, int b, int id) {
        int out = 0;
        for (int i = 0; i < len; i++) {
            if (i + 1 < len && s[i] == a && s[i + 1] == b) {
                s[out++] = id;
                i++;
            } else {
                s[out++] = s[i];
            }
        }
        return out;
    }

    private static long pair(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

    // ---------------------------------------------------------------- encode / decode

    /** The ids of {@code text}, without specials. */
    @Override
    public int[] encode(String text) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        Matcher m = CHUNK.matcher(text);
        while (m.find()) {
            int[] ids = encodeChunk(m.group());
            parts.add(ids);
            total += ids.length;
        }
        int[] out = new int[total];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private int[] encodeChunk(String chunk) {
        int[] hit = cache.get(chunk);
        if (hit != null) return hit;
        byte[] b = chunk.getBytes(StandardCharsets.UTF_8);
        int[] s = new int[b.length];
        for (int i = 0; i < b.length; i++) s[i] = FIRST_BYTE + (b[i] & 0xFF);
        int len = s.length;
        while (len > 1) {
            int best = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < len; i++) {
                Integer id = mergeId.get(pair(s[i], s[i + 1]));
                if (id != null && id < best) best = id;
            }
            if (best == Integer.MAX_VALUE) break;
            int[] mg = merges[best - FIRST_MERGE];
            len = mergeInPlace(s, len, mg[0], mg[1], best);
        }
        int[] ids = Arrays.copyOf(s, len);
        if (cache.size() > 200_000) cache.clear(); // bounded memory on long corpora
        cache.put(chunk, ids);
        return ids;
    }

    /** The text of {@code ids}; specials are skipped. */
    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= tokenBytes.length) throw new IllegalArgumentException("token id " + id + " outside [0, " + tokenBytes.length + ")");
            out.writeBytes(tokenBytes[id]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- files

    /** Saves the merges as text: a header line, then one "left right" pair of ids per line. */
    public void save(Path file) throws IOException {
        StringBuilder b = new StringBuilder(HEADER).append('\n').append("vocab ").append(vocabSize()).append('\n');
        for (int[] m : merges) b.append(m[0]).append(' ').append(m[1]).append('\n');
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    public static BpeTokenizer load(Path file) throws IOException {
        // MAX_VOCAB lines of two ids each: anything much larger is not a d2v BPE file.
        if (Files.isRegularFile(file) && Files.size(file) > 32L * MAX_VOCAB) {
            throw new DataFormatException(file, Files.size(file) + " bytes: larger than any d2v BPE file (at most " + MAX_VOCAB + " ids)");
        }
        List<String> lines = List.of(TextFiles.read(file).split("\n"));
        if (!lines.get(0).equals(HEADER)) throw new DataFormatException(file, "not a d2v BPE file (first line must be '" + HEADER + "')");
        if (lines.size() < 2 || !lines.get(1).startsWith("vocab ")) throw new DataFormatException(file, "line 2 must be 'vocab <size>'");
        int vocab;
        try {
            vocab = Integer.parseInt(lines.get(1).substring(6).trim());
        } catch (NumberFormatException e) {
            throw new DataFormatException(file, "bad vocab size on line 2");
        }
        if (vocab < FIRST_MERGE || vocab > MAX_VOCAB) {
            throw new DataFormatException(file, "line 2 declares vocab " + vocab + "; a d2v BPE has " + FIRST_MERGE + " to " + MAX_VOCAB + " ids");
        }
        if (FIRST_MERGE + lines.size() - 2 != vocab) {
            throw new DataFormatException(file, "declares vocab " + vocab + " but holds " + (FIRST_MERGE + lines.size() - 2) + " ids");
        }
        int[][] merges = new int[lines.size() - 2][];
        int[] length = new int[vocab];
        java.util.Arrays.fill(length, 0, FIRST_MERGE, 1);
        for (int k = 0; k < merges.length; k++) {
            String[] f = lines.get(k + 2).trim().split(" ");
            int id = FIRST_MERGE + k;
            try {
                if (f.length != 2) throw new NumberFormatException();
                merges[k] = new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
            } catch (NumberFormatException e) {
                throw new DataFormatException(file, "line " + (k + 3) + ": expected two token ids");
            }
            for (int x : merges[k]) {
                if (x < FIRST_BYTE || x >= id) throw new DataFormatException(file, "line " + (k + 3) + ": id " + x + " not defined before merge " + id);
            }
            // Checked before any token is built: merging a token with itself doubles it, and forty such lines would ask for terabytes.
            length[id] = length[merges[k][0]] + length[merges[k][1]];
            if (length[id] > MAX_TOKEN_BYTES) {
                throw new DataFormatException(file, "line " + (k + 3) + ": merge " + id + " makes a token of " + length[id] + " bytes, more than "
                        + MAX_TOKEN_BYTES + " (not a tokenizer d2v trained)");
            }
        }
        return new BpeTokenizer(merges);
    }
}
