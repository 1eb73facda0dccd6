package org.d2v.data.setup;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code d2v data install}: installs the Debian packages a set needs (as root, or prints the exact
 * command), builds the set into {@code <root>/<name>.partial}, writes its manifest and renames it
 * into place, so an interrupted run never leaves a half set that looks finished. A set that is
 * already there is only verified (manifest + pinned checksums).
 */
public final class DataInstaller {
    private static final Map<String, DataSetup> SETS = new LinkedHashMap<>();

    static {
        for (DataSetup s : List.of(new FashionMnistSetup(), new MnistSetup(), new SpeechSetup(), new TextSetup())) SETS.put(s.name(), s);
    }

    private final Path root;
    private final PrintStream log;

    public DataInstaller(Path root, PrintStream log) {
        this.root = root;
        this.log = log;
    }

    public static List<String> setNames() { return List.copyOf(SETS.keySet()); }

    /** Installs (or verifies) each named set in order. */
    public void install(List<String> names) throws IOException {
        List<DataSetup> chosen = new ArrayList<>();
        for (String n : names) {
            DataSetup s = SETS.get(n);
            if (s == null) throw new IllegalArgumentException("unknown data set '" + n + "'; known: " + String.join(", ", SETS.keySet()));
            chosen.add(s);
        }
        Files.createDirectories(root);
        for (DataSetup s : chosen) installOne(s);
    }

    private void installOne(DataSetup s) throws IOException {
        long t0 = System.nanoTime();
        Path dir = root.resolve(s.name());
        if (Manifest.present(dir)) {
            int n = Manifest.verify(dir);
            s.verifyPinned(dir);
            log.printf("%-14s verified %d files, %s (%.1f s)%n", s.name(), n, size(dir), secs(t0));
            return;
        }
        if (Files.exists(dir)) {
            throw new IOException(dir + ": exists but has no " + Manifest.NAME + " (not made by d2v data install?); remove it and run again");
        }
        log.printf("%-14s installing into %s%n", s.name(), dir);
        ensureApt(s.aptPackages());
        Path partial = root.resolve(s.name() + ".partial");
        if (Files.exists(partial)) {
            if (s.resumable()) log.printf("%-14s resuming the interrupted build in %s%n", s.name(), partial);
            else Shell.run(List.of("rm", "-rf", partial.toString()));
        }
        Files.createDirectories(partial);
        s.build(partial, new SetupContext(root, log));
        s.verifyPinned(partial);
        Manifest.write(partial);
        Files.move(partial, dir);
        log.printf("%-14s done: %d files, %s (%.1f s)%n", s.name(), fileCount(dir), size(dir), secs(t0));
    }

    /** Installs missing Debian packages as root; otherwise fails with the command to run. */
    static void ensureApt(List<String> packages) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String p : packages) if (!Shell.succeeds(List.of("dpkg", "-s", p))) missing.add(p);
        if (missing.isEmpty()) return;
        String cmd = "apt-get install -y " + String.join(" ", missing);
        if (!Shell.isRoot()) throw new IOException("missing Debian packages " + missing + "; run as root: apt-get update && " + cmd);
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "-q"));
        install.addAll(missing);
        Shell.run(List.of("apt-get", "update", "-q"));
        Shell.run(install);
    }

    private static double secs(long t0) { return (System.nanoTime() - t0) / 1e9; }

    static long fileCount(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    static String size(Path dir) throws IOException {
        long bytes;
        try (Stream<Path> s = Files.walk(dir)) {
            bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        return String.format("%.1f MB", bytes / 1e6);
    }
}
