package org.d2v.fuzz;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded byte mutations in the spirit of AFL/libFuzzer's havoc stage: bit flips, random bytes,
 * insertions, deletions, truncations, duplicated ranges, size fields overwritten with
 * interesting values (0, 1, -1, 2^31-1, 2^32-1, 2^63-1 and neighbours, both byte orders) and
 * splices of two seeds. Deterministic for a given random source, so a case is its seed and number.
 */
final class Mutator {
    private static final long[] INTERESTING = {0, 1, 2, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
            0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 1L << 53, 255 * 255 * 4};

    /** Words of the text formats worth planting: numbers at the edges, nesting, separators, escapes. */
    private static final String[] WORDS = {"0", "-1", "2147483647", "2147483648", "4294967295", "9223372036854775807",
            "99999999999999999999", "1e999", "-0", "NaN", "[", "{", "]", "}", ",", ":", "\"", "\\", "\\u0000", "\\ud800",
            "\\u00e9", "\t", "\n", "\r\n", "\u0000", " ", "#", "..", "/", "\u00e9", "\uD83D\uDE00"};

    private final SplittableRandom rng;

    Mutator(SplittableRandom rng) { this.rng = rng; }

    /**
     * One to four mutations of a seed drawn from {@code seeds}; {@code fields} are offsets of size
     * fields worth hitting (negative: counted from the end, as a trailer's).
     */
    byte[] mutate(List<byte[]> seeds, int[] fields) {
        byte[] b = seeds.get(rng.nextInt(seeds.size())).clone();
        int rounds = 1 + rng.nextInt(4);
        for (int r = 0; r < rounds; r++) b = once(b, seeds, fields);
        return b;
    }

    private byte[] once(byte[] b, List<byte[]> seeds, int[] fields) {
        int op = rng.nextInt(12);
        if (b.length == 0 && op != 3 && op != 8) op = 3;
        switch (op) {
            case 0 -> { // flip one bit
                int at = rng.nextInt(b.length);
                b[at] ^= (byte) (1 << rng.nextInt(8));
            }
            case 1 -> b[rng.nextInt(b.length)] = (byte) rng.nextInt(256); // one random byte
            case 2 -> { // a small run of random bytes
                int at = rng.nextInt(b.length), n = Math.min(b.length - at, 1 + rng.nextInt(8));
                for (int i = 0; i < n; i++) b[at + i] = (byte) rng.nextInt(256);
            }
            case 3 -> { // insert bytes (random, or a repeated one)
                int at = rng.nextInt(b.length + 1), n = 1 + rng.nextInt(rng.nextBoolean() ? 4 : 64);
                byte[] ins = new byte[n];
                if (rng.nextBoolean()) rng.nextBytes(ins);
                else Arrays.fill(ins, (byte) (rng.nextBoolean() ? 0 : rng.nextInt(256)));
                b = splice(b, at, at, ins);
            }
            case 4 -> { // delete a range
                int at = rng.nextInt(b.length), n = Math.min(b.length - at, 1 + rng.nextInt(16));
                b = splice(b, at, at + n, new byte[0]);
            }
            case 5 -> b = Arrays.copyOf(b, rng.nextInt(b.length)); // truncate
            case 6 -> { // duplicate a range
                int from = rng.nextInt(b.length), n = Math.min(b.length - from, 1 + rng.nextInt(32)), at = rng.nextInt(b.length + 1);
                b = splice(b, at, at, Arrays.copyOfRange(b, from, from + n));
            }
            case 7, 9 -> { // a size field: 1, 2, 4 or 8 bytes of an interesting value, either byte order
                int width = new int[] {1, 2, 4, 4, 8}[rng.nextInt(5)];
                int at = fields.length > 0 && rng.nextBoolean() ? fields[rng.nextInt(fields.length)] : rng.nextInt(b.length);
                if (at < 0) at = Math.max(0, b.length + at); // counted from the end (a trailer)
                long v = INTERESTING[rng.nextInt(INTERESTING.length)];
                if (rng.nextInt(4) == 0) v += rng.nextInt(5) - 2;
                boolean little = rng.nextBoolean();
                for (int i = 0; i < width && at + i < b.length; i++) {
                    int shift = 8 * (little ? i : width - 1 - i);
                    b[at + i] = (byte) (v >>> shift);
                }
            }
            case 8 -> { // splice: the head of this input, the tail of another seed
                byte[] other = seeds.get(rng.nextInt(seeds.size()));
                int cut = rng.nextInt(b.length + 1), from = other.length == 0 ? 0 : rng.nextInt(other.length);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(b, 0, cut);
                out.write(other, from, other.length - from);
                b = out.toByteArray();
            }
            case 10, 11 -> { // plant a word of a text format, once or repeated (deep nesting, long numbers)
                String w = WORDS[rng.nextInt(WORDS.length)];
                String word = rng.nextInt(8) == 0 ? w.repeat(1 + rng.nextInt(20_000)) : w;
                byte[] ins = word.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                int at = rng.nextInt(b.length + 1), cut = op == 11 ? Math.min(b.length - at, rng.nextInt(1 + Math.min(8, b.length - at))) : 0;
                b = splice(b, at, at + cut, ins);
            }
            default -> throw new IllegalStateException();
        }
        return b;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] with) {
        byte[] out = new byte[b.length - (to - from) + with.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(with, 0, out, from, with.length);
        System.arraycopy(b, to, out, from + with.length, b.length - to);
        return out;
    }
}
