package org.d2v.backend;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
 * stream layout every backend follows, so that dropout masks and noise are the same everywhere.
 *
 * <p>The stream (seed, offset): key = (low 32 bits of seed, high 32 bits of seed). Block b
 * (a 64-bit number) is the counter (low 32 bits of b, high 32 bits of b, 0, 0) and yields four
 * 32-bit words.
 * <ul>
 *   <li>{@link #uniform} and dropout: element e reads word e mod 4 of block offset + e/4.
 *       uniform = (word >>> 8)·2⁻²⁴ ∈ [0, 1); dropout keeps e when word ≥ floor(p·2³²).</li>
 *   <li>{@link #normal}: element e reads block offset + e/2, words (0, 1) for even e and (2, 3)
 *       for odd e: u1 = ((w_a >>> 8) + 1)·2⁻²⁴ ∈ (0, 1], u2 = (w_b >>> 8)·2⁻²⁴,
 *       z = sqrt(−2·ln u1)·cos(2π·u2) (Box–Muller).</li>
 * </ul>
 * A caller that draws n elements advances its offset by {@link #blocksUniform}(n) or
 * {@link #blocksNormal}(n) so that streams never overlap.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {}

    /** The raw generator: 10 rounds of Philox4x32 on counter c with key k. Returns 4 words. */
    public static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** The four words of block {@code b} of the stream keyed by {@code seed}. */
    public static int[] block(long seed, long b) {
        return block((int) b, (int) (b >>> 32), 0, 0, (int) seed, (int) (seed >>> 32));
    }

    /** Word {@code e mod 4} of block offset + e/4: the word behind uniform and dropout element e. */
    public static int word(long seed, long offset, long e) {
        return block(seed, offset + e / 4)[(int) (e % 4)];
    }

    public static double uniform(long seed, long offset, long e) {
        return (word(seed, offset, e) >>> 8) * 0x1.0p-24;
    }

    /** The unsigned threshold below which a word drops its element: floor(p·2³²). */
    public static long dropThreshold(double p) {
        return (long) Math.floor(p * 4294967296.0);
    }

    public static boolean keep(long seed, long offset, long e, double p) {
        return (word(seed, offset, e) & 0xFFFFFFFFL) >= dropThreshold(p);
    }

    public static double normal(long seed, long offset, long e) {
        int[] w = block(seed, offset + e / 2);
        int a = (e % 2 == 0) ? w[0] : w[2];
        int b = (e % 2 == 0) ? w[1] : w[3];
        double u1 = ((a >>> 8) + 1) * 0x1.0p-24;
        double u2 = (b >>> 8) * 0x1.0p-24;
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    public static long blocksUniform(long n) { return (n + 3) / 4; }

    public static long blocksNormal(long n) { return (n + 1) / 2; }
}
