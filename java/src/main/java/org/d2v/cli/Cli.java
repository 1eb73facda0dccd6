package org.d2v.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.Properties;
import org.d2v.data.DataFormatException;
import org.d2v.train.CheckpointException;
import picocli.CommandLine;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How d2v runs a picocli command line: the exit codes (0 done, 2 usage error or bad input, 1 a run
 * that failed), errors as one line {@code d2v <command>: <file or option>: <problem>} (the stack
 * trace only with --debug or D2V_DEBUG=1), the help layout and the version.
 */
final class Cli {
    static final int OK = 0, FAILED = 1, USAGE = 2;

    private Cli() {}

    static CommandLine configure(CommandLine line) {
        line.setUsageHelpWidth(100);
        line.setUsageHelpLongOptionsMaxWidth(28);
        line.setParameterExceptionHandler(Cli::usageError);
        line.setExecutionExceptionHandler((e, cl, parsed) -> runError(e, cl));
        return line;
    }

    /** A command line picocli could not parse: one line naming the option, and where to look. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String name = fullName(cl.getCommandSpec());
        err.println(name + ": " + describe(e) + " (" + name + " --help lists the options)");
        if (debugging(cl)) e.printStackTrace(err);
        err.flush();
        return USAGE;
    }

    /** picocli's messages, reworded as "--option: problem". */
    static String describe(CommandLine.ParameterException e) {
        String msg = e.getMessage();
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().get(0);
            return first + ": " + (first.startsWith("-") ? "unknown option" : "unexpected argument");
        }
        ArgSpec arg = e.getArgSpec();
        if (arg == null && e instanceof CommandLine.MissingParameterException m && !m.getMissing().isEmpty()) arg = m.getMissing().get(0);
        if (arg == null && e instanceof CommandLine.OverwrittenOptionException o) arg = o.getOverwritten();
        if (!(arg instanceof OptionSpec o)) return msg;
        String opt = o.longestName();
        if (e instanceof CommandLine.MissingParameterException) {
            return opt + ": " + (msg.startsWith("Missing required option") ? "is required" : "needs a value");
        }
        if (e instanceof CommandLine.OverwrittenOptionException) return opt + ": given twice";
        int colon = msg.indexOf("': ");
        if (msg.startsWith("Invalid value for option") && colon >= 0) {
            return opt + ": " + msg.substring(colon + 3).replaceAll("is not an? (long|int)$", "is not an integer")
                    .replaceAll("is not a (double|float)$", "is not a number");
        }
        return opt + ": " + msg;
    }

    /**
     * What escaped a command: bad input (an option value, a file) is exit 2, a run that could not go
     * on is exit 1. The messages of d2v's exceptions already name the file or the option.
     */
    private static int runError(Exception e, CommandLine cl) {
        PrintWriter err = cl.getErr();
        boolean badInput = e instanceof IllegalArgumentException || e instanceof CheckpointException || e instanceof DataFormatException
                || e instanceof NoSuchFileException || e instanceof FileNotFoundException;
        boolean known = badInput || e instanceof IOException || e instanceof java.io.UncheckedIOException || e instanceof IllegalStateException
                || e instanceof UnsupportedOperationException;
        String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof NoSuchFileException n) what = n.getFile() + ": no such file";
        if (!known) what = "internal error: " + e + " (--debug prints the stack trace)";
        err.println(fullName(cl.getCommandSpec()) + ": " + what);
        if (debugging(cl)) e.printStackTrace(err);
        err.flush();
        return badInput ? USAGE : FAILED;
    }

    private static boolean debugging(CommandLine cl) {
        if ("1".equals(System.getenv("D2V_DEBUG"))) return true;
        return cl.getCommand() instanceof CliCommand c && c.debug;
    }

    static String fullName(CommandSpec spec) {
        String q = spec.qualifiedName();
        return q.equals("d2v") || q.startsWith("d2v ") ? q : "d2v " + q;
    }

    /** d2v --version: the version Maven wrote into the jar. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"d2v " + version()};
        }

        static String version() throws IOException {
            try (InputStream in = Cli.class.getResourceAsStream("/org/d2v/version.properties")) {
                if (in == null) return "(unknown version: not built by Maven)";
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "(unknown version)");
            }
        }
    }
}
