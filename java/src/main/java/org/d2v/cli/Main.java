package org.d2v.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The {@code d2v} command: dispatches to the {@link Command}s on the class path. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        List<Command> commands = new ArrayList<>();
        ServiceLoader.load(Command.class).forEach(commands::add);
        commands.sort(Comparator.comparing(Command::name));
        String word = args.length == 0 ? "help" : args[0];
        for (Command c : commands) {
            if (c.name().equals(word)) System.exit(run(c, Arrays.copyOfRange(args, 1, args.length)));
        }
        System.out.println("usage: d2v <command> [options]   (d2v <command> --help for its options)\n\ncommands:");
        for (Command c : commands) System.out.printf("  %-10s %s%n", c.name(), c.summary());
        System.exit(word.equals("help") || word.equals("--help") ? 0 : 2);
    }

    /**
     * Runs one command. Commands report their own usage and data errors; what still escapes with a
     * message of its own (bad data met late, a run that cannot go on) is printed as that message,
     * not as a stack trace (D2V_DEBUG=1 prints the trace too).
     */
    static int run(Command c, String[] args) throws Exception {
        try {
            return c.run(args);
        } catch (java.io.IOException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("d2v " + c.name() + ": " + e.getMessage());
            if (System.getenv("D2V_DEBUG") != null) e.printStackTrace();
            return e instanceof IllegalStateException ? 1 : 2;
        }
    }
}
