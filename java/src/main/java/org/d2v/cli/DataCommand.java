package org.d2v.cli;

import java.nio.file.Path;
import java.util.List;
import org.d2v.data.DataDir;
import org.d2v.data.setup.DataInstaller;
import org.d2v.eval.Floors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code d2v data install|floors}: set up the real data sets, and measure the raw-feature floors. */
@Command(name = "data", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "Install the real data sets (d2v data install) and measure raw-feature floors (d2v data floors).",
        subcommands = {DataCommand.InstallAction.class, DataCommand.FloorsAction.class})
public final class DataCommand extends CliCommand {
    /** {@code d2v data} alone names its actions. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return Cli.USAGE;
    }

    /** Options both actions take. */
    static class Sets {
        @Option(names = "--sets", paramLabel = "LIST", split = ",",
                description = "comma-separated data sets, or all: ${COMPLETION-CANDIDATES} (default: all)", completionCandidates = Names.class)
        List<String> sets;

        @Option(names = "--dir", paramLabel = "DIR", description = "data root (default: build/data, or the d2v.data property / D2V_DATA variable)")
        Path dir;

        List<String> names() {
            if (sets == null || sets.equals(List.of("all"))) return DataInstaller.setNames();
            for (String s : sets) {
                if (!DataInstaller.setNames().contains(s)) throw new IllegalArgumentException("--sets: unknown set '" + s + "'; one of "
                        + String.join(", ", DataInstaller.setNames()) + " or all");
            }
            return sets;
        }

        Path root() { return dir != null ? dir : DataDir.root(); }
    }

    /** The set names, for the help text. */
    static final class Names implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return DataInstaller.setNames().iterator(); }
    }

    @Command(name = "install", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
            description = {"Installs the Debian/npm packages the sets need (apt-get as root, or prints the command to run), builds each "
                    + "set into DIR/<set>/ and verifies the pinned sha256 checksums; a set already installed is only verified."})
    static final class InstallAction extends CliCommand {
        @CommandLine.Mixin Sets sets = new Sets();

        @Override
        public Integer call() throws Exception {
            new DataInstaller(sets.root(), System.out).install(sets.names());
            return Cli.OK;
        }
    }

    @Command(name = "floors", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
            description = {"The raw-feature baselines every learned representation must beat: linear probe (and 1-NN for images) on raw "
                    + "pixels, mean log-spectra, bag of words."})
    static final class FloorsAction extends CliCommand {
        @CommandLine.Mixin Sets sets = new Sets();

        @Option(names = "--full", description = "also the official 60k/10k Fashion-MNIST split (minutes)")
        boolean full;

        @Override
        public Integer call() throws Exception {
            new Floors(sets.root(), System.out).run(sets.names(), full);
            return Cli.OK;
        }
    }
}
