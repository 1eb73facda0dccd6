package org.d2v.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How d2v runs a picocli command line: the exit codes (0 done, 2 usage error or bad input, 1 a run
 * that failed, 130/143 a run stopped by SIGINT/SIGTERM), errors as one line {@code d2v <command>: <file or option>: <problem>} (the stack
 * trace only with --debug or D2V_DEBUG=1), the help layout and the version.
 */
final class Cli {
    static final int OK = 0, FAILED = 1, USAGE = 2;

    private Cli() {}

    static CommandLine configure(CommandLine line) {
        line.setUsageHelpWidth(100);
        line.setUsageHelpLongOptionsMaxWidth(28);
        NumberOptions.register(line);
        line.setParameterExceptionHandler(Cli::usageError);
        line.setExecutionExceptionHandler((e, cl, parsed) -> runError(e, cl));
        line.setExecutionStrategy(strategy());
        return line;
    }

    /**
     * picocli's RunLast, except that an Error thrown by a command (OutOfMemoryError,
     * StackOverflowError) reaches the same one-line error path as an exception, instead of escaping
     * execute() with its stack trace.
     */
    static CommandLine.IExecutionStrategy strategy() {
        CommandLine.RunLast runLast = new CommandLine.RunLast();
        return parsed -> {
            try {
                return runLast.execute(parsed);
            } catch (Error e) {
                CommandLine.ParseResult last = parsed;
                while (last.hasSubcommand()) last = last.subcommand();
                throw new CommandLine.ExecutionException(last.commandSpec().commandLine(), String.valueOf(e), e);
            }
        };
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
     * on is exit 1, a run stopped by a signal 128 + its number. The message is one line naming the
     * file or the option and the problem ({@link Failures#describe}); a hint follows where one exists.
     */
    private static int runError(Exception e, CommandLine cl) {
        PrintWriter err = cl.getErr();
        Throwable failure = e instanceof CommandLine.ExecutionException x && x.getCause() instanceof Error error ? error : e;
        err.println(fullName(cl.getCommandSpec()) + ": " + Failures.describe(failure));
        if (debugging(cl)) failure.printStackTrace(err);
        err.flush();
        return Failures.exitCode(failure);
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
