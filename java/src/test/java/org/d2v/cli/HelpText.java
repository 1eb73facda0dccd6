package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Model.OptionSpec;

/** The help of a command is generated from its option declarations: every option must say what it does. */
final class HelpText {
    private HelpText() {}

    /** {@code expected} are exactly the command's options, each has a description, and --help prints them all (exit 0). */
    static void explainsEveryOption(CliCommand c, String... expected) throws Exception {
        Set<String> names = new TreeSet<>();
        for (OptionSpec o : c.commandLine().getCommandSpec().options()) {
            names.add(o.longestName());
            String text = String.join(" ", o.description());
            assertFalse(text.isBlank(), o.longestName() + " is not explained");
        }
        Set<String> want = new TreeSet<>(Set.of(expected));
        want.addAll(Set.of("--help", "--version", "--debug"));
        assertEquals(want, names);
        Captured help = Captured.run(() -> c.run("--help"));
        assertEquals(0, help.code());
        for (String n : names) assertTrue(help.out().contains(n), n + " is missing from --help:\n" + help.out());
    }
}
