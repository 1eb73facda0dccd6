package org.d2v.backend.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Every kernel declared in the repository's kernels/ (Maven runs tests in java/), as "program/kernel" (with its storage flavours). */
public final class DeclaredKernels {
    public static final Path DIR = Path.of("..", "kernels").toAbsolutePath().normalize();

    private DeclaredKernels() {}

    /** The programs: kernels/X.cl and kernels/X.cu, by name. */
    public static List<String> programs() {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cl") || n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + DIR, e);
        }
    }

    /**
     * Every kernel in every storage flavour it is compiled in and differs between
     * ({@link KernelSignatures.Signature#flavours}): "program/kernel", "program/kernel@bf16", ...
     */
    public static TreeSet<String> all() {
        List<String> names = new ArrayList<>();
        for (String program : programs()) {
            for (KernelSignatures.Signature s : KernelSignatures.program(program).values()) {
                for (Flavour f : s.flavours()) names.add(f.qualify(program + "/" + s.kernel()));
            }
        }
        return new TreeSet<>(names);
    }
}
