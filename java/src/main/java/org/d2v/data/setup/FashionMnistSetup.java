package org.d2v.data.setup;

import org.d2v.data.Checksums;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/** Fashion-MNIST from Debian's dataset-fashion-mnist: the four gzipped IDX files, checksums pinned in docs/data.md. */
final class FashionMnistSetup implements DataSetup {
    static final Path SOURCE = Path.of("/usr/share/datasets/fashion-mnist");
    static final String DEB_SHA256 = "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0";
    static final Map<String, String> PINNED = Map.of(
            "train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05");

    @Override public String name() { return "fashion-mnist"; }

    @Override public List<String> aptPackages() { return List.of("dataset-fashion-mnist"); }

    @Override
    public void build(Path out, SetupContext ctx) throws IOException {
        verifyCachedDeb(ctx);
        for (String f : PINNED.keySet().stream().sorted().toList()) {
            Checksums.verify(SOURCE.resolve(f), PINNED.get(f)); // fail on the installed file, before copying
            Files.copy(SOURCE.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public void verifyPinned(Path dir) throws IOException {
        for (var e : PINNED.entrySet()) Checksums.verify(dir.resolve(e.getKey()), e.getValue());
    }

    /** The .deb is only on disk when apt kept it in its cache; when it is, it must match docs/data.md. */
    private static void verifyCachedDeb(SetupContext ctx) throws IOException {
        Path cache = Path.of("/var/cache/apt/archives");
        if (!Files.isDirectory(cache)) return;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(cache, "dataset-fashion-mnist_*.deb")) {
            for (Path deb : s) {
                Checksums.verify(deb, DEB_SHA256);
                ctx.log("verified " + deb.getFileName());
            }
        }
    }
}
