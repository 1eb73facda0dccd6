package org.d2v.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every input with which the fuzz harness broke a reader (before the fixes of issue #17), kept
 * as it was found (hex) or, where the found input was long, rebuilt from what made it crash. Each
 * must now keep the {@link Oracle}'s property and be refused with the message that says why.
 */
class FoundCrashesTest {
    @TempDir Path tmp;

    static Stream<Arguments> crashes() {
        return Stream.of(
                // IDX: the product of three header ints wrapped a long; the array was sized from the wrapped value.
                found("idx", "0000080300008e002e2e0000001c0000001c", "header declares 36352 images of 774766592×1835008 (more than"),
                found("idx", "00000803000001393939393939393939393939393939393939393900", "header declares 313 images of 960051513×960051513"),
                // The first run (seed 20261201, before the mutator planted words): sizes from headers of a few dozen bytes,
                // allocated before the data were looked at (814, 768, 688, 448, 288 and 750 MiB).
                found("idx", "000008030000005e572599707d9e062e532e530000000400254a6f940000000400254a6f94b9de03284d7297bce1062b50759abfe4092e53", "header declares 94 images of 1462081904×2107508270 (more than", "but the file holds 56 bytes"),
                found("idx-gz", "00000803000000020000000803000000000000001c0000000002000000080300000000000000001c", "header declares 2 images of 8×50331648 (805306384 bytes) but a gzip file of 38 bytes inflates to at most about 39216 bytes"),
                found("gzip", "1f8b08800000000000ff6360e060664d60600462263056", "corrupt gzip data: member 1 sets reserved header flags 0x80"),
                found("png", "89504e470d0a1a0a0000000d494844520100000500000004100000000033c876df0000003549444154785e63606060dcc3f65e60ba7c0e03871b9720"
                        + "7f98a4b48618839a8ab3e64ee3cbce3e0cc1d342274447a70996550200da8a0b755412309c0000000049454e44ae426082", "corrupt PNG: CRC-32 mismatch in chunk 1 (IHDR)"),
                found("bmp", "424d4e000000000000003e0000002800000005000000040000096c0001000100000000001000000000000000000000000000000002000000000000ff"
                        + "ffffffff38000000080000000000000000000000", "header declares a 5×150994948 image (754974740 pixels), more than the 178956970"),
                found("gif", "47494638396105000400f400000000001414142e2e2e3232323838384545454848485858586262626767676969696e6e6e7070707c7c7c8c8c8c9b9b"
                        + "9b9c9c9ca1a1a1a9a9a9b5b5b50000000000000000000000000000000000000000000000000000000000000400000000002c00003c0a007800327814"
                        + "640000643c1464782800b40032b41e64b43c960000963c1e96783cc80000c83c28c8785096b45ac8b478000000000000000000000000000000000000"
                        + "0000000000000000000000000000000000002c000000000500040044081900010830c0e0018102081c440830e040030809142c90302120003b", "header declares a 30720×12800 image (393216000 pixels), more than the 178956970"),
                // IDX found in the fixed reader's first version: dimensions whose product wraps a long to a small size.
                found("idx-gz", hex(ByteBuffer.allocate(16).putInt(2051).putInt(13362).putInt(959_723_830).putInt(925_514_553).array()),
                        "header declares 13362 images of 959723830×925514553"),
                found("idx-gz", "00000803000800000000001c0000001c", "header declares 524288 images of 28×28", "a gzip file of"),
                found("gzip", "1f8b08000000000000ff6360e06066606060046226ad0caded07002bfea32b14000000", "t-labels-idx1-ubyte.gz"),
                found("png-crc-fixed", "89504e470d0a1a0a0000000d4948445201008e0500000004100000000033c876df0000003549444154785e63606060dcc3f65e60ba7c0e03871b9720"
                        + "7f98a4b486187c83529a8ab3e64ee3cbce3e0cc1d342274447a70996550200da8a0b755412309c0000000849454e44ae426082", "truncated or corrupt PNG: chunk 3"),
                found("gif", hex(gifFrame(14906, 14906, 0)), "header declares a 14906×14906 image (222188836 pixels), more than the 178956970"),
                // Found by a longer run (seed 7, case 238): under PIL's limit, but more than a 37,201-byte GIF can hold.
                found("gif", hex(gifFrame(13107, 12855, 37_201)), "header declares a 13107×12855 image (168490485 pixels) but the file holds only 37201 bytes"),
                // Accepted within the limits (2 Mpx from 816 bytes): decoded and converted inside the budget. Found by make fuzz's
                // mutation stage (case 2012 of a 45 s run), a fault of the harness, not the reader: it built a message for every pixel.
                found("gif", hex(gifFrame(1285, 1541, 816))),
                found("manifest", "2e000000000000000000000000007609360d0a", "line 1: '.\\u0000", "is not a valid path"),
                found("manifest", "2e0a000000007609360a622e77617609", "line 2: '\\u0000\\u0000\\u0000\\u0000v' is not a valid path"),
                // Found by a longer run (seed 11, case 96): "/" as a clip, a path without a file name.
                found("manifest", "2e0a2f09350a0a", "/: no such file (listed on line 2 of"),
                found("digit-index", "65737065616b2f656e2b6d312f335f733133302d7033352e77617609330965737065616b0965737065616b2f656e2b6d310973313330f09f98802d"
                        + "7033350a2320636f6d6d656e740a666c6974652f736c742f305f64312e302d662a9f0892c93a619d938cd79178ebef658d84989738459dec0c82"
                        + "0333b15f39352e776176093009666c69746509666c6974652f736c740964312e302d6639350a", "not UTF-8 text: invalid byte 0x9F"),
                found("digit-index", "65737065616b2f656e2b6d312f335f00000000010000002e77617609330965737065616b0965737065616b2f656e2b6d3109733133302d7033350a"
                        + "2320636f6d6d656e740a666c6974652f736c742f305f43312e302d6639352e776176093009666c69746509666c6974652f736c740964312e302d663935"
                        + "0a", "line 1: 'espeak/en+m1/3_\\u0000", "is not a valid path"),
                // dict.txt: an all-digit symbol too large for an int (the found dict.txt's line 242, alone).
                found("gpt2-dict", hex("10429496729508 0\n".getBytes(StandardCharsets.UTF_8)), "line 1: GPT-2 id 10429496729508 is not in"),
                found("token-file", "050100572400000067000000070114010000120100000601000024000000710000000701000032000000060100002400000068000000730000006b0000"
                        + "0014010000120100000601000024000000090100006b000000320000000e00000002000000", "token 0 is 1459618053, outside the tokenizer's"),
                found("token-file", "050100002400000067000000070100001401000012010000060100002400000071009c9c9c0007010000320000000601000024000000680000007300"
                        + "00006b000000c3a9000601000024000000090100006b000000320000000e00000002000008", "outside the tokenizer's"),
                found("token-file", "0501000024000000670000000701000014010000120100000601000024000000710000000701000032000000060100", "truncated: 24 tokens were written but the file holds 47 bytes"));
    }

    private static Arguments found(String target, String hex, String... expected) { return Arguments.of(target, hex, expected); }

    private static String hex(byte[] b) { return HexFormat.of().formatHex(b); }

    /** A 5x4 GIF whose first frame's descriptor says {@code w} x {@code h}, padded after its trailer to {@code size} bytes. */
    private static byte[] gifFrame(int w, int h, int size) {
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(5, 4, java.awt.image.BufferedImage.TYPE_BYTE_INDEXED);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(im, "gif", out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        byte[] b = out.toByteArray();
        int table = (b[10] & 0x80) != 0 ? 3 << ((b[10] & 7) + 1) : 0, at = 13 + table;
        while (b[at] == 0x21) { // extension blocks before the image descriptor
            at += 2;
            while (b[at] != 0) at += (b[at] & 0xFF) + 1;
            at++;
        }
        ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort(at + 5, (short) w).putShort(at + 7, (short) h);
        if (size <= b.length) return b;
        byte[] padded = java.util.Arrays.copyOf(b, size);
        java.util.Arrays.fill(padded, b.length, size, (byte) '.');
        return padded;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("crashes")
    void keepsTheProperty(String target, String hex, String[] expected) throws Exception {
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve(target));
        Oracle.runCase(Targets.byName(target), HexFormat.of().parseHex(hex), dir); // throws a Finding if the crash is back
        Oracle.Outcome o = Oracle.outcome();
        for (String e : expected) {
            assertTrue(o.refusals().stream().anyMatch(m -> m.contains(e)), target + ": no refusal says '" + e + "': " + o.refusals());
        }
    }
}
