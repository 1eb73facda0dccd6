package org.d2v.bench;

/**
 * The shapes the benchmarks run at. {@code base} is ViT-B data2vec 2.0 (docs/algorithm.md §2: D = 768, 12 heads,
 * student T = 40 tokens in B×M = 256 rows, teacher T = 197 in B = 16, 2-D decoder 768 channels on
 * 14×14 with 16 groups, audio 1-D decoder 768→384, k = 7); {@code tiny} is the CPU preset.
 */
public record Preset(String name, int dim, int heads, int studentRows, int studentTokens, int teacherRows,
                     int teacherTokens, int grid, int decoderChannels, int decoderGroups, int audioRows,
                     int audioFrames, int audioDecoderChannels, long parameters) {

    public static final Preset TINY = new Preset("tiny", 128, 4, 128, 11, 16, 50, 7, 128, 16, 8, 99, 64, 1_200_000L);
    public static final Preset BASE = new Preset("base", 768, 12, 256, 40, 16, 197, 14, 768, 16, 8, 999, 384, 86_000_000L);

    public static Preset named(String name) {
        return switch (name) {
            case "tiny" -> TINY;
            case "base" -> BASE;
            default -> throw new IllegalArgumentException("unknown preset " + name + " (tiny, base)");
        };
    }

    public int headDim() { return dim / heads; }
}
