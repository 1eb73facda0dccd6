package org.d2v.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every d2v command shares: picocli parses its options (declared on its fields, so the help
 * text and the parser have one source), {@code --help}, {@code --version} and {@code --debug}, and
 * {@link Cli} turns failures into one-line errors and exit codes.
 */
abstract class CliCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--debug", description = "on an error, also print its stack trace (as does the environment variable D2V_DEBUG=1)")
    boolean debug;

    private CommandLine line;

    /**
     * Parses {@code args} and runs the command: 0 when it succeeded or printed help, 2 for a usage
     * error or bad input, 1 for a run that failed. The same object can run several command lines
     * (options go back to their defaults before each parse).
     */
    public int run(String... args) {
        CommandLine cl = commandLine();
        // picocli caches its writers; take the streams of now (tests redirect System.out and System.err).
        cl.setOut(new PrintWriter(System.out, true));
        cl.setErr(new PrintWriter(System.err, true));
        cl.setExecutionStrategy(Cli.strategy()); // it, too, remembers System.out from when it was made
        try {
            return cl.execute(args);
        } finally {
            cl.getOut().flush();
            cl.getErr().flush();
        }
    }

    /** This command as picocli sees it, configured the d2v way (created once, so defaults are remembered once). */
    CommandLine commandLine() {
        if (line == null) line = Cli.configure(new CommandLine(this));
        return line;
    }

    /** "d2v pretrain", "d2v data install": how errors and hints name this command. */
    String fullName() { return Cli.fullName(spec); }
}
