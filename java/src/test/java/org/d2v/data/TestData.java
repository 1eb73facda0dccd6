package org.d2v.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** The small real samples committed in testdata/ (found from the module or the repository root). */
public final class TestData {
    private TestData() {}

    public static Path file(String name) {
        for (Path dir : new Path[] {Path.of("testdata"), Path.of("../testdata")}) {
            Path p = dir.resolve(name);
            if (Files.exists(p)) return p;
        }
        throw new IllegalStateException("testdata/" + name + " not found from " + Path.of("").toAbsolutePath());
    }
}
