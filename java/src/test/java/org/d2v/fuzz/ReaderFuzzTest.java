package org.d2v.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.d2v.data.TestFiles;
import org.junit.jupiter.api.AfterAll;

/**
 * Coverage-guided fuzzing (Jazzer, libFuzzer's engine) of the same targets and property as
 * {@link ReaderMutationFuzzTest}. In a plain test run these replay the inputs kept under
 * {@code src/test/resources/org/d2v/fuzz/ReaderFuzzTestInputs/<method>/} (Jazzer's regression
 * mode); {@code make fuzz} fuzzes each one in turn ({@code JAZZER_FUZZ=1}, one method per JVM,
 * starting from the targets' seeds).
 */
class ReaderFuzzTest {
    private static Path dir;

    private static final java.util.Set<String> warm = new java.util.HashSet<>();

    private static void run(String target, byte[] data) throws Exception {
        if (dir == null) dir = Files.createTempDirectory("d2v-fuzz-");
        Path d = Files.createDirectories(dir.resolve(target));
        Targets.Target t = Targets.byName(target);
        // Jazzer instruments each class as it loads, on this thread: the first calls (ImageIO's registry,
        // say) would count that work against the allocation budget. The seeds load the readers first.
        if (warm.add(target)) for (byte[] seed : t.seeds()) t.run(seed, d);
        Oracle.runCase(t, data, d);
    }

    @AfterAll
    static void clean() throws IOException {
        if (dir != null) TestFiles.deleteTree(dir);
        dir = null;
    }

    /** The method fuzzing {@code target} ("gpt2-vocab" -> gpt2Vocab). */
    static String method(String target) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char c : target.toCharArray()) {
            if (c == '-') up = true;
            else {
                b.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return b.toString();
    }

    @FuzzTest void idx(byte[] d) throws Exception { run("idx", d); }

    @FuzzTest void idxGz(byte[] d) throws Exception { run("idx-gz", d); }

    @FuzzTest void gzip(byte[] d) throws Exception { run("gzip", d); }

    @FuzzTest void png(byte[] d) throws Exception { run("png", d); }

    @FuzzTest void pngCrcFixed(byte[] d) throws Exception { run("png-crc-fixed", d); }

    @FuzzTest void jpeg(byte[] d) throws Exception { run("jpeg", d); }

    @FuzzTest void bmp(byte[] d) throws Exception { run("bmp", d); }

    @FuzzTest void gif(byte[] d) throws Exception { run("gif", d); }

    @FuzzTest void wav(byte[] d) throws Exception { run("wav", d); }

    @FuzzTest void manifest(byte[] d) throws Exception { run("manifest", d); }

    @FuzzTest void digitIndex(byte[] d) throws Exception { run("digit-index", d); }

    @FuzzTest void text(byte[] d) throws Exception { run("text", d); }

    @FuzzTest void bpe(byte[] d) throws Exception { run("bpe", d); }

    @FuzzTest void gpt2Vocab(byte[] d) throws Exception { run("gpt2-vocab", d); }

    @FuzzTest void gpt2Merges(byte[] d) throws Exception { run("gpt2-merges", d); }

    @FuzzTest void gpt2Dict(byte[] d) throws Exception { run("gpt2-dict", d); }

    @FuzzTest void safetensors(byte[] d) throws Exception { run("safetensors", d); }

    @FuzzTest void sentimentJson(byte[] d) throws Exception { run("sentiment-json", d); }

    @FuzzTest void tokenFile(byte[] d) throws Exception { run("token-file", d); }

    @FuzzTest void setManifest(byte[] d) throws Exception { run("set-manifest", d); }

    @FuzzTest void setStamps(byte[] d) throws Exception { run("set-stamps", d); }
}
