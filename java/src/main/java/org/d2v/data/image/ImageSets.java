package org.d2v.data.image;

import org.d2v.data.DataDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fashion-MNIST (gzipped IDX) and MNIST (raw IDX) as installed by {@code d2v data install}. */
public final class ImageSets {
    public static final String FASHION_MNIST = "fashion-mnist";
    public static final String MNIST = "mnist";

    /** Fashion-MNIST class names, by label. */
    public static final String[] FASHION_CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

    private ImageSets() {}

    public static LabeledImages fashionMnist(Path dataRoot, Split split) throws IOException {
        return load(DataDir.of(dataRoot, FASHION_MNIST), split);
    }

    public static LabeledImages mnist(Path dataRoot, Split split) throws IOException {
        return load(DataDir.of(dataRoot, MNIST), split);
    }

    /** Reads {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]} from {@code dir}. */
    public static LabeledImages load(Path dir, Split split) throws IOException {
        return Idx.read(pick(dir, split.prefix + "-images-idx3-ubyte"), pick(dir, split.prefix + "-labels-idx1-ubyte"), 10);
    }

    private static Path pick(Path dir, String name) {
        Path gz = dir.resolve(name + ".gz");
        return Files.exists(gz) ? gz : dir.resolve(name);
    }
}
