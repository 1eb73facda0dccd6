package org.d2v.bench.twin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** bench/pytorch/presets.json is what the Java presets say: the twin cannot drift from d2v's models. */
class TwinPresetsTest {
    @Test
    void committedPresetsMatchTheJavaPresets() throws Exception {
        Path file = TwinProcess.script().getParent().resolve("presets.json");
        assertEquals(TwinPresets.json(), Files.readString(file),
                file + " is stale: regenerate it with `java -cp bench/target/benchmarks.jar org.d2v.bench.twin.TwinPresets` from the repository root");
    }
}
