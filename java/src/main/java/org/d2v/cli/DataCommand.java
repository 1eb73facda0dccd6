package org.d2v.cli;

import org.d2v.data.DataDir;
import org.d2v.data.setup.DataInstaller;
import org.d2v.eval.Floors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code d2v data install|floors}: set up the real data sets, and measure the raw-feature floors. */
public final class DataCommand implements Command {
    private static final String USAGE = """
            usage: d2v data install [--sets LIST|all] [--dir DIR]
                   d2v data floors  [--sets LIST|all] [--dir DIR] [--full]

            install  installs the Debian/npm packages the sets need (apt-get as root, or prints the
                     command to run), builds each set into DIR/<set>/ and verifies the pinned sha256
                     checksums; a set already installed is only verified.
            floors   the raw-feature baselines every learned representation must beat: linear probe
                     (and 1-NN for images) on raw pixels, mean log-spectra, bag of words.

            --sets   comma-separated: %s (default: all)
            --dir    data root (default: %s, or the d2v.data property / D2V_DATA variable)
            --full   floors: also the official 60k/10k Fashion-MNIST split (minutes)
            """;

    @Override public String name() { return "data"; }

    @Override public String summary() { return "install the real data sets (d2v data install) and measure raw-feature floors"; }

    @Override
    public int run(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.printf(USAGE, String.join(",", DataInstaller.setNames()), DataDir.root());
            return args.length == 0 ? 2 : 0;
        }
        List<String> sets = DataInstaller.setNames();
        Path dir = DataDir.root();
        boolean full = false;
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            switch (a) {
                case "--sets" -> {
                    String v = value(rest, ++i, a);
                    sets = v.equals("all") ? DataInstaller.setNames() : List.of(v.split(","));
                }
                case "--dir" -> dir = Path.of(value(rest, ++i, a));
                case "--full" -> full = true;
                default -> {
                    System.err.println("unknown option " + a + "\n");
                    System.err.printf(USAGE, String.join(",", DataInstaller.setNames()), DataDir.root());
                    return 2;
                }
            }
        }
        switch (args[0]) {
            case "install" -> new DataInstaller(dir, System.out).install(sets);
            case "floors" -> new Floors(dir, System.out).run(sets, full);
            default -> {
                System.err.println("unknown action " + args[0] + " (install or floors)");
                return 2;
            }
        }
        return 0;
    }

    private static String value(List<String> args, int i, String opt) {
        if (i >= args.size()) throw new IllegalArgumentException(opt + " needs a value");
        return args.get(i);
    }
}
