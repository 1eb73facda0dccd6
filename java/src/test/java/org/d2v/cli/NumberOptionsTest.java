package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.d2v.train.FolderHash;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Issue #17, classes 4 and 5: every numeric option of every command (found by walking the command
 * tree, so an option added later is covered too) refuses NaN, infinities, values that overflow
 * its type (3000000000 for an int, never wrapped) and text, as a usage error naming the option,
 * the value and the problem, before anything is read or written.
 */
class NumberOptionsTest {
    @TempDir Path tmp;

    private record Case(List<String> command, String option, String value, String problem) {}

    private static void collect(CommandLine cl, List<String> path, List<Case> out) {
        for (OptionSpec o : cl.getCommandSpec().options()) {
            Class<?> t = o.type() == List.class && o.auxiliaryTypes().length > 0 ? o.auxiliaryTypes()[0] : o.type();
            String name = o.longestName();
            if (t == Integer.class || t == int.class) {
                out.add(new Case(path, name, "3000000000", "'3000000000' is out of range (an integer from -2147483648 to 2147483647)"));
                out.add(new Case(path, name, "-2147483649", "is out of range"));
                out.add(new Case(path, name, "1e3", "'1e3' is not an integer"));
            } else if (t == Long.class || t == long.class) {
                out.add(new Case(path, name, "9223372036854775808", "is out of range (an integer from -9223372036854775808 to 9223372036854775807)"));
                out.add(new Case(path, name, "2.5", "'2.5' is not an integer"));
            } else if (t == Double.class || t == double.class || t == Float.class || t == float.class) {
                out.add(new Case(path, name, "NaN", "'NaN' is not a finite number"));
                out.add(new Case(path, name, "Infinity", "'Infinity' is not a finite number"));
                out.add(new Case(path, name, "-Infinity", "'-Infinity' is not a finite number"));
                out.add(new Case(path, name, "1e400", "'1e400' is out of range"));
                out.add(new Case(path, name, "1e-400", "'1e-400' is too small to be told from 0"));
                out.add(new Case(path, name, "ten", "'ten' is not a number"));
            }
        }
        for (Map.Entry<String, CommandLine> sub : cl.getSubcommands().entrySet()) {
            if (sub.getKey().equals("help")) continue;
            List<String> p = new ArrayList<>(path);
            p.add(sub.getKey());
            collect(sub.getValue(), p, out);
        }
    }

    @Test
    void everyNumericOptionOfEveryCommandRefusesNonFiniteOverflowingAndMalformedValues() throws Exception {
        List<Case> cases = new ArrayList<>();
        collect(Main.commandLine(), List.of(), cases);
        assertTrue(cases.size() > 60, "options found: " + cases.size());
        assertTrue(cases.stream().anyMatch(c -> c.command().equals(List.of("pretrain")) && c.option().equals("--batch")));
        assertTrue(cases.stream().anyMatch(c -> c.command().equals(List.of("demo")) && c.option().equals("--ema")), "list elements too");
        Path run = tmp.resolve("run");
        Map<String, String> before = FolderHash.of(tmp);
        CommandLine main = Main.commandLine();
        for (Case c : cases) {
            List<String> args = new ArrayList<>(c.command());
            args.addAll(List.of("--run", run.toString(), c.option(), c.value()));
            if (!c.command().contains("pretrain") && !c.command().contains("probe") && !c.command().contains("finetune")
                    && !c.command().contains("demo") && !c.command().contains("import") && !c.command().contains("export")) {
                args.removeAll(List.of("--run", run.toString()));
            }
            Captured r = Captured.run(() -> {
                main.setErr(new java.io.PrintWriter(System.err, true)); // the error stream of now (Captured swaps it)
                return main.execute(args.toArray(String[]::new));
            });
            String name = "d2v " + String.join(" ", c.command());
            assertEquals(2, r.code(), args + "\n" + r.err());
            assertEquals(name + ": " + c.option() + ": ", r.err().substring(0, Math.min(r.err().length(), name.length() + c.option().length() + 4)),
                    "names the command and the option: " + r.err());
            assertTrue(r.err().contains(c.problem()), "says '" + c.problem() + "': " + r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
        assertEquals(before, FolderHash.of(tmp), "nothing was written");
    }

    @Test
    void valuesInRangeStillParse() {
        assertEquals(2147483647L, NumberOptions.integer("2147483647", Integer.MIN_VALUE, Integer.MAX_VALUE));
        assertEquals(-5L, NumberOptions.integer(" -5 ", Integer.MIN_VALUE, Integer.MAX_VALUE));
        assertEquals(7L, NumberOptions.integer("+7", Integer.MIN_VALUE, Integer.MAX_VALUE));
        assertEquals(1e-3, NumberOptions.finite("1e-3"));
        assertEquals(0.0, NumberOptions.finite("0.0"));
        assertEquals(1.7e308, NumberOptions.finite("1.7e308"));
    }
}
