package org.d2v.data.setup;

import org.d2v.data.Checksums;
import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code MANIFEST.sha256} in a set's folder: the sha256 of every file setup produced, in
 * sha256sum's format. Its presence marks a finished install; a later run only verifies it.
 */
final class Manifest {
    static final String NAME = "MANIFEST.sha256";

    private Manifest() {}

    static void write(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(NAME)).sorted().toList();
        }
        StringBuilder b = new StringBuilder();
        for (Path f : files) b.append(Checksums.sha256(f)).append("  ").append(dir.relativize(f).toString().replace('\\', '/')).append('\n');
        Files.writeString(dir.resolve(NAME), b.toString(), StandardCharsets.UTF_8);
    }

    /** Verifies every entry; returns the number of files checked. */
    static int verify(Path dir) throws IOException {
        Path m = dir.resolve(NAME);
        int n = 0;
        for (String line : Files.readAllLines(m, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            int sep = line.indexOf("  ");
            if (sep != 64) throw new DataFormatException(m, "malformed line: " + line);
            Checksums.verify(dir.resolve(line.substring(66)), line.substring(0, 64));
            n++;
        }
        return n;
    }

    static boolean present(Path dir) { return Files.isRegularFile(dir.resolve(NAME)); }
}
