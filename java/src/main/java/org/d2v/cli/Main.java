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
            if (c.name().equals(word)) System.exit(c.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        System.out.println("usage: d2v <command> [options]   (d2v <command> --help for its options)\n\ncommands:");
        for (Command c : commands) System.out.printf("  %-10s %s%n", c.name(), c.summary());
        System.exit(word.equals("help") || word.equals("--help") ? 0 : 2);
    }
}
